"""Labels in any spelling (agent/engine/labels.py) against the generated vocabulary (agent/engine/packs/vocab.yaml):
the spellings issue 13 found missed, each masked without an entry of its own, and what must pass."""

from __future__ import annotations

import pytest

from agent.engine.labels import words
from tests.support.masker_support import masker, message_text, request

MASKED = [
    # the same shapes outside their context stay names: a state machine's name, a 16-hex key ID with
    # no trace before it, a 64-hex ID under an AWS label
    ('{"State": {"Name": "ChargeCard"}, "StateMachine": {"Name": "orders-flow"}}', "orders-flow"),
    ('"XksKeyId": "bb8562717f809024"', "bb8562717f809024"),
    ('"certificateId": "f0430e1736ea8ed30cc5d5de9af67a7e3586bad9ae4d89c2a44163f65fdd8cf6"',
     "f0430e1736ea8ed30cc5d5de9af67a7e3586bad9ae4d89c2a44163f65fdd8cf6"),
    ("AWS_S3_BUCKET=acme-web-assets\n", "acme-web-assets"),
    ("NEXT_PUBLIC_S3_BUCKET=acme-web-assets\n", "acme-web-assets"),
    ('eks_cluster_name = "platform-prod"', "platform-prod"),
    ("const cfg = { s3Bucket: 'acme-uploads' };", "acme-uploads"),
    ('"Variables": {"TABLE_NAME": "orders-table"}', "orders-table"),
    ('await s3.send(new GetObjectCommand({ Bucket: "acme-exports", Key }));', "acme-exports"),
    ('params := &s3.GetObjectInput{Bucket: aws.String("acme-exports")}', "acme-exports"),
    ('GetObjectRequest.builder().bucket("acme-exports").key("a.csv").build()', "acme-exports"),
    ('client.describe_db_instances(DBInstanceIdentifier="orders-db")', "orders-db"),
    ("aws rds describe-db-instances --db-instance-identifier orders-db", "orders-db"),
    ('resource "aws_db_instance" "x" {\n  db_instance_identifier = "orders-db"\n}', "orders-db"),
    ("ECS_CLUSTER=payments-cluster-1\nDB_INSTANCE_IDENTIFIER=orders-db\n", "orders-db"),
    ('{"FunctionName": "orders-handler", "Runtime": "python3.12"}', "orders-handler"),
    ('"SecurityGroups": [{"GroupName": "web-tier-sg", "GroupId": "sg-0123456789abcdef0"}]', "web-tier-sg"),
    ("env:\n  - name: S3_BUCKET\n    value: acme-uploads-prod\n", "acme-uploads-prod"),
    ('"environment": [{"name": "TABLE_NAME", "value": "orders-table"}]', "orders-table"),
    ("<ListBucketResult><Name>acme-xml-bucket</Name></ListBucketResult>", "acme-xml-bucket"),
    ("<groupSet><item><groupId>sg-0123abcd</groupId><groupName>web-tier-sg</groupName></item></groupSet>",
     "web-tier-sg"),
    ('"SubnetIds": ["subnet-1EXAMPLE", "subnet-2EXAMPLE"]', "subnet-2EXAMPLE"),
    ("aws ivs get-channel --name channel-1", "channel-1"),   # as the last word of a JSON string too
    # every account of a plural account flag, not only the first (account-in-context finds that one)
    ('aws securityhub get-members --account-ids "444455556666" "777788889999"', "777788889999"),
    ("aws securityhub get-members --account-ids 444455556666 777788889999", "777788889999"),
    # a plural flag's items compete one by one: a log group path another detector owns hides no other item
    ("aws logs start-query --log-group-names /aws/lambda/orders-fn /ecs/catalog-store --start-time 1",
     "catalog-store"),
    ("aws logs filter-log-events --log-group-names /aws/codebuild/web-build payments-api-logs",
     "payments-api-logs"),
    # a list's item names compete one by one: an ARN inside an item hides none of them
    ("managedNodeGroups:\n  - name: web-ng-1\n    iam:\n      instanceRoleARN: arn:aws:iam::111122223333:role/r\n",
     "web-ng-1"),
    # a KMS alias under a key-ID label (a path under an ID label is otherwise something else)
    ("aws ec2 create-volume --kms-key-id alias/prod-payments --size 8", "prod-payments"),
    ('{"KeyId": "alias/prod-payments"}', "prod-payments"),
    # a singular model key's value does not run on over the next key and hide it
    ('{"sourceCommit": "ca45e279EXAMPLE",\n "sourceReference": "refs/heads/bugfix-1234"}', "bugfix-1234"),
    # an unquoted value ends at the quote closing the string the assignment stands in
    ('- "S3_BUCKET=acme-compose-data"', "acme-compose-data"),
    ("spring.datasource.db-instance-identifier=helios-orders-prod", "helios-orders-prod"),
    # single-quoted builder calls (Ruby, JS, Python)
    ("obj = s3.bucket('kestrel-ingest-uploads').object('backups/db.sql.gz')", "kestrel-ingest-uploads"),
    # a URL label's URL is still read
    ("QueueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/orders-jobs", "orders-jobs"),
    # beside code references (KEPT_CODE): names people give resources are still names
    ("aws glacier describe-vault --account-id - --vault-name MyVaultName", "MyVaultName"),
    ('{"uploadId": "MyUploadId"}', "MyUploadId"),
    ("TABLE_NAME=orders_prod\n", "orders_prod"),                 # .env: no spaces around the =
    ('table_name = "orders_prod"', "orders_prod"),                # quoted: a value, not a reference
    ('{"TableName": "user_sessions"}', "user_sessions"),
    ("FunctionName: orders_handler_prod", "orders_handler_prod"),
    ('new GetObjectRequest().withBucketName("acme-exports")', "acme-exports"),   # Java SDK v1 setters
    ('request.setBucketName("acme-exports");', "acme-exports"),
]

# Code that refers to an identifier, never one (vocab._code_reference), in the shapes the Python standard
# library, the Anthropic SDK, pip and npm write it (tests/support/code_corpus.py found each masked, and
# the masked variable propagated to every other line it stood on).
KEPT_CODE = [
    "return ModuleSpec(name, loader, origin=origin, is_package=is_package)",
    "    path_template('/v1/workspaces/{workspace_id}', workspace_id=workspace_id),",
    "        self._federation_rule_id = federation_rule_id",
    "        memory_store_id=resource.memory_store_id,",
    "    source.systemId = systemId",
    "def read_binary(package: Package, resource: Resource) -> bytes:",
    'ENV_ORGANIZATION_ID = "ANTHROPIC_ORGANIZATION_ID"',
    'CONVERSATION_ID = "gen_ai.conversation.id"',
    '    module_name = "numpy.distutils." + module_name',
    '    method_name = "get_" + basename',
    '{"type": "workspace", "workspace_id": "wrkspc_..."}',
    "    script_name = dest_path.name",
    "    self.layerContents = {DEFAULT_LAYER_NAME: DEFAULT_GLYPHS_DIRNAME}",
    'line_end = LineEnd().set_name("line_end")',
    "  static override readonly _errorName: string = 'CredentialsError';",
    "  static override readonly _errorName: string = 'BetaStorageChangedConcurrentlyError';",
]

KEPT = [
    '"State": {"Code": 16, "Name": "running"}',
    '"Placement": {"Tenancy": "default", "GroupName": "default"}',
    # an EC2 filter's name (documented by the models' Filters members), in either key order
    '{"Filters": [{"Values": ["running"], "Name": "instance-state-name"}]}',
    '{"Name": "instance-state-name"}',
    # a content digest under a generic key (docker inspect): a hash, and "sha256" is no name
    '[{"Id": "sha256:4a5e1c2b3d9f7a6b8c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"}]',
    '{"type": "tool_result", "tool_use_id": "toolu_01ABCdef234"}',
    '{"type": "tool_use", "id": "toolu_01ABCdef234", "name": "Bash", "input": {}}',
    '{"name": "my-app", "version": "2.0.1", "private": true}',
    "bucketName: string;",
    "user_id = 'u_8f3k2'",
    '"InstanceType": "t3.micro", "Status": "available", "EngineVersion": "8.0.35"',
    '"RequestId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"',
    "for name in names: print(name)",
    # a URL label whose value is code or the app's own route, not a URL
    "export const queueUrl = queue.url;",
    "NEXT_PUBLIC_API_URL=/api\nAPI_URL=/api/v1",
    # per-request IDs and code (vocab.py, _per_request_or_code): an X-Ray trace ID under "Id", a
    # segment ID after its trace ID, an exception's type name, a container runtime's container ID
    '{"TraceSummaries": [{"Id": "1-5f84c7a1-1d2b9c0e8f7a6b5c4d3e2f1a", "Duration": 3.21}]}',
    "XRAY TraceId: 1-5f84c7a1-1d2b9c0e8f7a6b5c4d3e2f1a\tSegmentId: 4b9c42f62fd737d9\tSampled: true",
    '{"trace_id": "1-5f84c7a1-1d2b9c0e8f7a6b5c4d3e2f1a", "id": "4b9c42f62fd737d9", "name": "x"}',
    '{"level": "ERROR", "exception_name": "ConditionalCheckFailedException"}',
    "    + FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception,Amazon.PowerShell.Cmdlets.S3.GetS3ObjectCmdlet",
    '{"container.id": "d0bc436428200cd73f87b2b1b4422ba3294ab3e988a07b924146d85fdcec4fef"}',
    # a state's name in a Step Functions context object ("State" holds an enum Name in EC2's output)
    '{"State": {"EnteredTime": "2024-06-01T10:00:01.212Z", "Name": "ChargeCard", "RetryCount": 2}}',
    # OpenTelemetry's own namespaces: the SDK and the application's logical service
    '{"service.name": "checkout", "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "java"}',
    "OTEL_RESOURCE_ATTRIBUTES=service.name=checkout-api,service.namespace=shop",
    # a Maven POM's coordinates: <groupId> beside an <artifactId> (EC2's XML <groupId> never has one)
    "<dependency>\n  <groupId>software.amazon.awssdk</groupId>\n  <artifactId>bom</artifactId>\n"
    "  <version>2.25.40</version>\n</dependency>",
    "<plugin><artifactId>maven-shade-plugin</artifactId></plugin>",
]


@pytest.mark.parametrize("label,expected", [
    ("NEXT_PUBLIC_S3_BUCKET", ("next", "public", "s3", "bucket")),
    ("s3Bucket", ("s3", "bucket")),
    ("DBInstanceIdentifier", ("db", "instance", "identifier")),
    ("db-instance-identifier", ("db", "instance", "identifier")),
    ("SubnetIDs", ("subnet", "ids")),
    ("eks_cluster_name", ("eks", "cluster", "name")),
])
def test_words(label, expected):
    assert words(label) == expected


def _masked(text: str, as_json: bool) -> str:
    if as_json:  # inside a Messages request: the label stands in a JSON string, escaped
        return message_text(masker().mask_body(request(text), "application/json").body)
    return masker().mask_body(text.encode(), "text/plain").body.decode()


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text,value", MASKED, ids=[t[:40] for t, _ in MASKED])
def test_label_spellings_are_masked(text, value, as_json):
    assert value not in _masked(text, as_json)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", KEPT, ids=[t[:40] for t in KEPT])
def test_enum_values_code_and_api_keys_pass(text, as_json):
    assert _masked(text, as_json) == text


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", KEPT_CODE, ids=[t.strip()[:40] for t in KEPT_CODE])
def test_code_references_pass(text, as_json):
    assert _masked(text, as_json) == text

# Quoted values of several words under an identifier label: each word masked on its own (a
# pseudonym holds no space: the restore map's safe set), AWS-owned names and paths left alone.
SPACED = [
    ('{"Name": "Flights Select Query", "WorkGroup": "primary"}', ["Flights", "Select", "Query"]),
    ('"SAMAccountName": "Jane Doe",', ["Jane", "Doe"]),
    ("aws apigateway create-rest-api --name 'Copy of My First API'", ["Copy", "First", "API"]),
    ('{"RuleName": "Critical role findings"}', ["Critical", "findings"]),
]
SPACED_KEPT = [
    '"ServiceName": "AWS X-Ray"',
    '{"Name": "Amazon Elastic Compute Cloud (Amazon EC2)"}',
    '{"Name": "PUT /prod"}',
    '{"Name": "one two three four five six seven eight nine"}',
    '{"type": "tool_use", "id": "toolu_01ABCdef234", "name": "Run the tests", "input": {}}',
    'display_name = "Orders Team"',
    '{"Name": "instance-state-name", "Values": ["running"]}',
]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text,words_", SPACED, ids=[t[:40] for t, _ in SPACED])
def test_spaced_values_are_masked_word_by_word(text, words_, as_json):
    out = _masked(text, as_json)
    for w in words_:
        assert f" {w}" not in out and f"{w} " not in out and f'"{w}' not in out


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", SPACED_KEPT, ids=[t[:40] for t in SPACED_KEPT])
def test_spaced_values_kept(text, as_json):
    assert _masked(text, as_json) == text


def test_spaced_values_restore():
    from agent.engine.restore import restore_text
    from agent.engine.restore_map import decode, encode

    text = '{"Name": "Flights Select Query", "DisplayName": "x", "SID": "S-1-5-21-3623811015-3361044348-30300820-1013"}'
    result = masker().mask_body(text.encode(), "text/plain")
    assert "Flights" not in result.body.decode() and "3623811015" not in result.body.decode()
    assert restore_text(result.body.decode(), decode(encode(result.restore_map))) == text


def test_tool_use_block_keeps_its_id_and_name_when_its_input_holds_an_arn_key():
    """A lower-case "id" / "name" is generic only in the same object as an ARN key: a tool_use whose
    input has {"arn": ...} keeps its id (its tool_result refers to it) and its tool name."""
    import json

    block = {"type": "tool_use", "id": "toolu_01ABCdef234", "name": "mcp__aws__describe",
             "input": {"arn": "arn:aws:iam::123456789012:role/x", "name": "orders-handler-2"}}
    body = json.dumps({"model": "m", "max_tokens": 10, "messages": [{"role": "assistant", "content": [block]}]})
    out = json.loads(masker().mask_body(body.encode(), "application/json").body)
    got = out["messages"][0]["content"][0]
    assert got["id"] == "toolu_01ABCdef234" and got["name"] == "mcp__aws__describe"
    assert "123456789012" not in json.dumps(got) and got["input"]["name"] != "orders-handler-2"


# Lower-case "name" / "id" with no ARN key: the object's other keys say it is an AWS resource when
# two of them are distinctive members of one botocore structure that has that name / id (lightsail
# Instance: supportCode, isStaticIp ...), or one is and every key belongs to it (DomainEntry).
RESOURCE_OBJECTS = [
    ('{"name": "WordPress-1", "supportCode": "6EXAMPLE3362/i-0f1e2d3c", "isStaticIp": false, "addOns": []}',
     "WordPress-1"),
    ('{"id": "-1682899164", "name": "www.example.com", "target": "192.0.2.0", "isAlias": false, "type": "A"}',
     "-1682899164"),
    ('{"pipeline": {"name": "MyFirstPipeline", "pipelineType": "V2", "executionMode": "QUEUED", "stages": []}}',
     "MyFirstPipeline"),
    # labels dropped as application records (DisplayName, SessionId), in an object of AWS's own keys
    ('{"PortfolioDetail": {"ProviderName": "my-provider", "DisplayName": "my-portfolio", "CreatedTime": 1571337221.5}}',
     "my-portfolio"),
    ('{"SessionId": "John-07a16060613c408b5", "Target": "i-1234567890abcdef0", "Status": "Connected", '
     '"StartDate": "2024-01-01", "Owner": "x", "OutputUrl": {}}', "John-07a16060613c408b5"),
]
OTHER_OBJECTS = [
    '{"name": "http", "containerPort": 80, "protocol": "TCP"}',                                   # Kubernetes port
    '{"name": "web", "image": "nginx", "imagePullPolicy": "Always", "volumeMounts": [], "workingDir": "/app"}',
    '{"name": "list_buckets", "title": "L", "description": "d", "inputSchema": {}, "outputSchema": {}}',  # MCP tool
    '{"name": "my-app", "version": "1.0.0", "devDependencies": {}, "peerDependencies": {}}',
    '{"name": "petId", "in": "path", "required": true, "allowEmptyValue": false, "allowReserved": false}',  # OpenAPI
    '{"id": "C012AB3CD", "name": "general", "isChannel": true, "isArchived": false, "isMember": true}',  # Slack
    '{"name": "get_weather", "description": "d", "input_schema": {"type": "object"}}',              # Anthropic tool
    '{"UserId": "u_8f3k2", "DisplayName": "Jane Doe", "Email": "j@example.com", "IsActive": true}',  # an app's user
    '{"SessionId": "sess-91ab", "ExpiresAt": "2024-06-01T00:00:00Z", "UserAgent": "curl/8.0"}',
    '{"DeviceId": "dev-1", "DeviceName": "Pixel-8", "OsVersion": "14", "AppVersion": "2.1"}',
]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text,value", RESOURCE_OBJECTS, ids=[t[:40] for t, _ in RESOURCE_OBJECTS])
def test_lower_case_name_id_of_an_aws_resource_object(text, value, as_json):
    assert value not in _masked(text, as_json)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", OTHER_OBJECTS, ids=[t[:40] for t in OTHER_OBJECTS])
def test_lower_case_name_id_of_other_objects_pass(text, as_json):
    assert _masked(text, as_json) == text


def test_anthropic_api_keys_stay_when_a_tool_input_holds_an_aws_resource_object():
    """tool_use id / name, tool_result tool_use_id and tools[].name pass byte-exact, even when the tool
    input and the tool result hold a lightsail instance whose own name is masked."""
    import json

    instance = {"name": "WordPress-1", "supportCode": "6EXAMPLE3362/i-0f1e2d3c", "isStaticIp": False,
                "addOns": [], "blueprintId": "wordpress"}
    body = json.dumps({
        "model": "m", "max_tokens": 10,
        "tools": [{"name": "lightsail_get_instance", "description": "d",
                   "input_schema": {"type": "object", "properties": {"supportCode": {"type": "string"},
                                                                     "isStaticIp": {"type": "boolean"}}}}],
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01ABCdef234",
                                               "name": "lightsail_get_instance", "input": instance}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01ABCdef234",
                                          "content": json.dumps({"instance": instance})}]}]})
    out = json.loads(masker().mask_body(body.encode(), "application/json").body)
    use, result = out["messages"][0]["content"][0], out["messages"][1]["content"][0]
    assert out["tools"][0]["name"] == "lightsail_get_instance"
    assert use["id"] == "toolu_01ABCdef234" and use["name"] == "lightsail_get_instance"
    assert result["tool_use_id"] == "toolu_01ABCdef234"
    assert use["input"]["name"] != "WordPress-1" and "WordPress-1" not in result["content"]


# CLI flags whose words do not say "name" but whose operation's botocore docs do ("The name of the
# domain ..."): trusted only inside that operation's aws command.
NAMED_FLAGS = [
    ("aws codeartifact list-repositories-in-domain --domain test-domain --max-results 5", "test-domain"),
    ("aws swf count-open-workflow-executions \\\n    --domain DataFrobtzz \\\n    --start-time-filter x",
     "DataFrobtzz"),
    ("aws athena list-named-queries --work-group TeamB", "TeamB"),
    ("aws codeartifact delete-repository --domain d-1 --repository test-repo", "test-repo"),
]
NOT_NAMED_FLAGS = [
    "git push --domain prod-eu",                        # not an aws command
    "mycli deploy --repository team-repo",
    "aws codeartifact list-domains --domain test-domain",   # list-domains has no --domain member
    "aws ec2 describe-vpcs --rule x-1",
]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text,value", NAMED_FLAGS, ids=[t[:40] for t, _ in NAMED_FLAGS])
def test_flags_the_operation_documents_as_names(text, value, as_json):
    assert value not in _masked(text, as_json)


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text", NOT_NAMED_FLAGS, ids=[t[:40] for t in NOT_NAMED_FLAGS])
def test_named_flags_outside_their_operation_pass(text, as_json):
    assert _masked(text, as_json) == text


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_kms_alias_keeps_its_prefix(as_json):
    """"alias/" is AWS's syntax: only the alias name is masked; AWS managed aliases stay whole."""
    out = _masked('{"KeyId": "alias/prod-payments", "TargetKeyId": "alias/aws/s3"}', as_json)
    assert "alias/" in out.replace("alias/aws/s3", "") and "prod-payments" not in out and "alias/aws/s3" in out


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("text,name,kept", [
    ('{"ResourceId": "table/orders-2024"}', "orders-2024", "table/"),
    ("aws application-autoscaling describe-scalable-targets --resource-id service/default/checkout-api",
     "checkout-api", "service/default/"),
    ('{"ResourceId": "autoScalingGroup/web-asg"}', "web-asg", "autoScalingGroup/"),
])
def test_id_paths_of_a_documented_resource_type(text, name, kept, as_json):
    """A path under an ID label whose first segment is a resource type an ID member's botocore docs
    show as a path (<code>table/my-table</code>): the name is masked, the type stays; other paths
    under an ID label (a Kubernetes "default/checkout") pass, as before."""
    out = _masked(text, as_json)
    assert name not in out and kept in out
    assert "default/checkout" in _masked('{"stackID": "default/checkout"}', as_json)
