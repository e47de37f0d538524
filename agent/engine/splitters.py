"""Turn one detector match into the parts to pseudonymize: ``(start, end, kind)`` spans.

A detector's regex says where an identifier is; its ``split`` says which pieces of it are secret.
ARNs and hostnames are cut component-wise (account, resource names, embedded IPs) so region,
service and partition stay readable and the same account gets the same pseudonym everywhere.
A splitter returning no parts rejects the match (that is how validation works).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable

from agent.engine.memo import Memo
from agent.engine.policy_values import AWS_REGISTRY_ACCOUNTS
from agent.engine.pseudonyms import kept_bits

Part = tuple[int, int, str]

# Every region and AZ of botocore's endpoint data (tests/unit/test_bounded_work.py checks them all).
REGION = re.compile(
    r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|eusc)(?:-gov|-iso[bef]?|-de)?-"
    r"(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}(?:[a-z])?")
SHORT_REGION = re.compile(r"(?:us|eu|ap|sa|ca|me|af|il|mx|cn|usw|use|euw|euc|apne|apse|aps)[a-z]{0,2}\d")
EC2_ID = re.compile(
    r"(?:i|ami|vol|snap|vpc|subnet|sg|eni|igw|eigw|nat|rtb|rtbassoc|acl|aclassoc|eipalloc|eipassoc|vpce|"
    r"pcx|tgw|tgw-attach|tgw-rtb|lt|dopt|vgw|cgw|vpn|fs|fsap|fsmt|elb|ecr|cr|dhcp|pl|prefix|fleet|sir|"
    r"host|r|ri|import-ami|export-i|vpc-flow-log|fl|nacl|lgw|al|ipam|ipam-pool|ipam-scope|eks|cvpn-endpoint|"
    r"tgw-mcast-domain|tgw-connect|vpce-svc|natgw|carrier|snap-schedule)-"
    r"(?:[0-9a-f]{17}|[0-9a-f]{8}|[0-9a-f]{8,10}EXAMPLE)")   # i-07dd579bc5EXAMPLE: the AWS docs' spelling
ACCOUNT = re.compile(r"\d{12}")
IP_LABEL = re.compile(r"(?:ip|ec2)-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})")
NAME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]")
SAFE = re.compile(r"[\x21-\x7e]+")

# ARN resource segments and hostname labels that are AWS vocabulary, not customer data.
KEEP_WORDS = frozenset("""
    aws root app net gwy service-role aws-service-role aws-reserved sso.amazonaws.com $LATEST latest
    default primary replica policy role user group instance-profile mfa server-certificate saml-provider
    oidc-provider stream index
""".split())
HOST_SERVICES = frozenset("""
    s3 s3-accesspoint s3-control dualstack dkr ecr api execute-api rds cache elb elasticloadbalancing ec2
    compute compute-1 eks sqs sns lambda lambda-url es aoss kafka docdb redshift elasticache cloudfront
    cognito-idp auth vpce vpce-svc ng cfg clustercfg amazonaws com cn internal iot ats iot-data
    execute-api-fips awsapps secretsmanager kms logs monitoring sts iam ssm dynamodb kinesis firehose
    apigateway appsync-api appsync gr7 sk1 yl4 mq emr glue athena sagemaker elasticbeanstalk
    awsapprunner amplifyapp awsglobalaccelerator master replica efs fsx streams ssmmessages ec2messages
    server transfer vpc-lattice-svcs verified-access
""".split())   # server transfer: a Transfer Family server's host (<server ID>.server.transfer.<region>...);
# vpc-lattice-svcs: a VPC Lattice service's (<name>-<id>.<hash>.vpc-lattice-svcs.<region>.on.aws);
# verified-access: a Verified Access endpoint's (<prefix>.edge-<id>.vai-<id>.prod.verified-access.<region>...)
# A label AWS writes right before one of its service labels (Verified Access's stage, prod).
_HOST_STAGE = {"verified-access": frozenset({"prod"})}


_REGION_OR_ALNUM = re.compile(f"({REGION.pattern})|[A-Za-z0-9]")


def nothing_secret(value: str) -> bool:
    """Whether a name holds nothing to hide: no letter or digit outside its regions and AZs
    (``us-east-1``, ``eu-west-1a``, ``us-east-1/us-west-2``, ``---``, empty).

    A region is public vocabulary, and the pseudonym of a name keeps its regions as they are
    (``agent/engine/assignment.py``), so such a name would be its own pseudonym. It is not masked at all: the
    splitters that cut names (``context_value``, ``namelist``, ARN and path segments) refuse it, and
    one that still reached the assignment would get a name's second form, never a loop.
    """
    # Left to right, a region where one starts, else one letter or digit: the first that is not a
    # region ends it (for most names, the first character does).
    m = _REGION_OR_ALNUM.search(value)
    while m is not None:
        if m.group(1) is None:
            return False
        m = _REGION_OR_ALNUM.search(value, m.end())
    return True


def _span(m: re.Match) -> tuple[int, int]:
    return m.span("value")


def whole(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    start, end = m.span("value")
    return [(start, end, kind)] if SAFE.fullmatch(text, start, end) else []


MEMO_SIZE = 20_000


def _memoized(fn: Callable[[str, re.Match, dict, str], list[Part]]):
    """For splitters whose parts depend only on the matched text: remember them relative to the match
    (the same ARN or host name recurs all through an inventory and across a conversation's turns),
    under a key that is not the matched text (agent/engine/memo.py)."""
    memo: Memo[tuple[Part, ...]] = Memo(MEMO_SIZE)

    def split(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
        base = m.start()
        key, rel = memo.get((kind, m.group()))
        if rel is None:
            rel = memo.put(key, tuple((s - base, e - base, k) for s, e, k in fn(text, m, params, kind)))
        return [(base + s, base + e, k) for s, e, k in rel]

    split.__doc__ = fn.__doc__
    split.__wrapped__ = fn
    return split


def _segment_kind(seg: str) -> str:
    if EC2_ID.fullmatch(seg):
        return "ec2-id"
    if ACCOUNT.fullmatch(seg):
        return "account"
    return "name"


# Pieces of a timestamp cut at ":" (a DynamoDB stream label 2024-05-01T10:22:33.123): not names.
_TIME_PIECE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2})?|[0-9]{2}(?:\.[0-9]{1,9})?Z?")


# Roles AWS creates, or tells every customer to create, under one fixed name: the same in every
# account (arn:aws:iam::*:role/OrganizationAccountAccessRole in an SCP names AWS's role, not the user's).
AWS_FIXED_ROLES = frozenset({"OrganizationAccountAccessRole", "AWSControlTowerExecution",
                              "AWSCloudFormationStackSetExecutionRole", "AWSCloudFormationStackSetAdministrationRole"})


# Names AWS gives a resource in every account (variants-9): CodeDeploy's predefined deployment
# configurations (CodeDeployDefault.OneAtATime, .ECSAllAtOnce, .LambdaCanary10Percent5Minutes ...),
# SageMaker's default production variant and the test alias every Bedrock agent has. Session 11: the
# change set name the SAM CLI gives every deploy (samcli-deploy<epoch seconds>, in a changeSet/ ARN),
# and the RDS certificate authorities (CACertificateIdentifier: rds-ca-rsa2048-g1; RDS user guide
# "Using SSL/TLS to encrypt a connection to a DB instance": the three current CAs and the two retired),
# the default roles and instance profiles Elastic Beanstalk and EMR create under fixed names. Session 12
# (variants-13 and -14): AWS Backup's default role, the ECS roles its docs and console name for everyone
# (ecsTaskExecutionRole, ecsInstanceRole ...), AppConfig's predefined deployment strategies, and the
# security policies Transfer Family and Elastic Load Balancing predefine (TransferSecurityPolicy-2024-01,
# ELBSecurityPolicy-TLS13-1-2-2021-06: names only AWS gives).
AWS_DEFAULT_NAME = re.compile(r"CodeDeployDefault\.[A-Za-z0-9]+|AllTraffic|TSTALIASID|samcli-deploy[0-9]{10}"
                              # the default parameter groups (default.mysql8.0, default.redshift-1.0,
                              # default.redis7.cluster.on): a name customers cannot take (session 17)
                              r"|default\.[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*"
                              r"|rds-ca-(?:rsa2048-g1|rsa4096-g1|ecc384-g1|2019|2015)"
                              r"|aws-elasticbeanstalk-(?:ec2|service)-role|EMR_(?:EC2_|AutoScaling_)?DefaultRole"
                              r"|AWSBackupDefaultServiceRole|ecs(?:TaskExecution|Instance|Service|Autoscale|Events)Role"
                              r"|AppConfig\.(?:AllAtOnce|Linear50PercentEvery30Seconds|Linear20PercentEvery6Minutes"
                              r"|Canary10Percent20Minutes)"
                              r"|(?:Transfer|ELB)SecurityPolicy-[A-Za-z0-9]+(?:-[A-Za-z0-9]+){1,6}"
                              # the log files RDS writes for an engine (download-db-log-file-portion --log-file-name)
                              r"|(?:error|slowquery|general|audit)/(?:postgres(?:ql)?|mysql-error(?:-running)?"
                              r"|mysql-slowquery|mysql-general|server_audit)\.log"
                              r"(?:\.[0-9]{4}-[0-9]{2}-[0-9]{2}(?:-[0-9]{2,4})?|\.[0-9]{1,2})?")


def _keep_segment(seg: str) -> bool:
    return (not seg or "*" in seg or seg in KEEP_WORDS or (seg.isdigit() and len(seg) <= 6)
            or bool(_TIME_PIECE.fullmatch(seg))
            or nothing_secret(seg) or seg.endswith(".amazonaws.com")
            or seg.startswith("AWSServiceRoleFor") or seg in AWS_FIXED_ROLES
            or AWS_DEFAULT_NAME.fullmatch(seg) is not None)


_SERVICE_SEGMENT = re.compile(r"[a-z][a-z0-9-]*")
_DIGEST_ALGORITHMS = frozenset({"sha1", "sha256", "sha384", "sha512", "md5"})
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32,128}")


# A name with a trailing wildcard, as IAM policies match a secret's random suffix or a family of names
# (secret:<name>-*, table/orders-*): the name itself is the customer's; its pseudonym restores before
# the "-*" (a "*" follows no word). A name of one plain word before the wildcard (prod-*) stays, and
# so does any other segment with a "*" in it.
_WILDCARD_TAIL = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])[-_.]?\*")
_NAME_MARK = re.compile(r"[-_0-9]")


def _segments(text: str, start: int, end: int) -> list[tuple[int, str, bool]]:
    """``/`` or ``:`` separated segments as (offset, value, may be secret): AWS-defined ones are not,
    and neither is the service name right after an ``aws`` segment (``/aws/lambda/<fn>``, ``alias/aws/s3``)."""
    out = []
    after_aws = after_algorithm = False
    for seg in re.finditer(r"[^/:]+", text[start:end]):
        value = seg.group()
        wild = _WILDCARD_TAIL.fullmatch(value)
        if wild is not None and _NAME_MARK.search(wild.group(1)):
            value = wild.group(1)  # a name before a trailing wildcard (secret:<name>-*, table/<name>*)
        # a content digest (an image's sha256:<hex>) tells nothing, and its algorithm is no name
        digest = value in _DIGEST_ALGORITHMS and text.startswith(":", start + seg.end()) \
            and _HEX_DIGEST.match(text, start + seg.end() + 1) is not None
        keep = _keep_segment(value) or (after_aws and bool(_SERVICE_SEGMENT.fullmatch(value))) \
            or digest or (after_algorithm and bool(_HEX_DIGEST.fullmatch(value)))
        after_aws = value == "aws"
        after_algorithm = digest
        out.append((start + seg.start(), value, not keep))
    return out


def arn(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """``arn:partition:service:region:account:resource``: account and resource names, per component."""
    account = m.group("account") or ""
    if account == "aws" or not SAFE.fullmatch(m.group("value")):
        return []  # AWS-managed (policy/AdministratorAccess) or unsafe characters
    service = m.group("service")
    if not account and (service in _AWS_OWNED_WITHOUT_ACCOUNT or m.group("resource").startswith(
            _AWS_OWNED_TYPES_WITHOUT_ACCOUNT.get(service, "\0"))
            or _AWS_NAMED_WITHOUT_ACCOUNT.match(m.group("resource"))):
        return []  # AWS's own: arn:aws:states:::lambda:invoke, arn:aws:securityhub:::ruleset/cis-...
    if service == "automate" and account == "ec2":
        return []  # a CloudWatch alarm's EC2 action (arn:aws:automate:<region>:ec2:recover): AWS's, no account
    if service == "lambda" and account in _AWS_LAYER_ACCOUNTS and m.group("resource").startswith("layer:"):
        return []  # a layer AWS publishes for everyone (Powertools, Lambda Insights, ADOT, Parameters and Secrets)
    if service == "apigateway" and "/arn:" in m.group("resource"):
        return _nested_arn(text, m, params, kind)
    parts: list[Part] = []
    if ACCOUNT.fullmatch(account):
        parts.append((*m.span("account"), "account"))
    rstart, rend = m.span("resource")
    resource = text[rstart:rend]
    stripped = resource.rstrip(".,;:)")
    segments = _segments(stripped, 0, len(stripped))
    # sns (topic[:subscription]), sqs (queue) and s3 (bucket/key) resources start with the name.
    has_type = service not in _NO_RESOURCE_TYPE and len(segments) > 1
    first = segments[0][1] if segments else None
    aws_defined = next((d for d in _AWS_DEFINED_SEGMENTS.get(service, ()) if d[0] in (None, first)), None)
    if service == "sts" and len(segments) == 3 and segments[0][1] == "assumed-role" \
            and _AWS_SESSION.fullmatch(segments[2][1]):
        segments[2] = (segments[2][0], segments[2][1], False)
    if service in _RUN_UUID_TYPES and len(segments) == 2 and segments[0][1] == _RUN_UUID_TYPES[service] \
            and _RUN_UUID.fullmatch(segments[1][1]):
        segments[1] = (segments[1][0], segments[1][1], False)   # a Batch job's ID: one run's UUID, as a request ID
    if service == "iam" and len(segments) > 1 and segments[0][1] == "oidc-provider":
        segments = _oidc_issuer(segments)
    if service == "bedrock":   # a foundation model's ID (and its :0 / :8k variant) in a system inference
        after_model = False    # profile's or a custom model's ARN is AWS's, as in a foundation-model ARN
        for n, (off, seg, _) in enumerate(segments):
            after_model = _BEDROCK_MODEL.fullmatch(seg) is not None or (
                after_model and _MODEL_VARIANT.fullmatch(seg) is not None)
            if after_model:
                segments[n] = (off, seg, False)
    for n, (off, seg, secret) in enumerate(segments):
        if not secret or (n == 0 and has_type and _RESOURCE_TYPE.fullmatch(seg)):
            continue
        if aws_defined is not None and n < aws_defined[1]:
            continue
        parts.append((rstart + off, rstart + off + len(seg), _segment_kind(seg)))
    return parts


# Identity providers' OIDC issuers, the same for every AWS customer who trusts them (an IAM OIDC
# provider's ARN is arn:aws:iam::<account>:oidc-provider/<issuer host>[/<path>]), with the fixed words
# of their issuer paths; what else their paths hold (an EKS cluster's OIDC ID, a CircleCI organisation's
# ID, an Azure tenant) is the customer's. A company's own issuer host stays masked.
_PUBLIC_OIDC_ISSUERS: dict[str, frozenset[str]] = {
    "token.actions.githubusercontent.com": frozenset(), "gitlab.com": frozenset(), "app.terraform.io": frozenset(),
    "accounts.google.com": frozenset(), "cognito-identity.amazonaws.com": frozenset(),
    "sts.windows.net": frozenset(), "login.microsoftonline.com": frozenset({"v2.0"}),
    "oidc.circleci.com": frozenset({"org"}),
    "api.bitbucket.org": frozenset({"2.0", "workspaces", "pipelines-config", "identity", "oidc"}),
}
_EKS_ISSUER = re.compile(r"oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?")


def _oidc_issuer(segments: list[tuple[int, str, bool]]) -> list[tuple[int, str, bool]]:
    """An OIDC provider's segments with a public issuer's host and the fixed words of its path kept."""
    host = segments[1][1]
    fixed = frozenset({"id"}) if _EKS_ISSUER.fullmatch(host) else _PUBLIC_OIDC_ISSUERS.get(host)
    if fixed is None:
        return segments
    return segments[:1] + [(segments[1][0], host, False)] + [
        (off, seg, secret and seg not in fixed) for off, seg, secret in segments[2:]]


def _nested_arn(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """An API Gateway integration URI (``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/
    <function ARN>/invocations``): its path is AWS's API, the same for everyone, so only the ARN inside
    is split, as an ARN (its account and function name), without the ``/invocations`` after it."""
    rstart, rend = m.span("resource")
    inner = text.index("/arn:", rstart, rend) + 1
    tail = text.rfind("/invocations", inner, rend)
    nested = m.re.match(text, inner, tail if tail != -1 else rend)
    return arn(text, nested, params, kind) if nested is not None else []


_NO_RESOURCE_TYPE = frozenset({"s3", "sns", "sqs"})
# ARN resources whose leading segments AWS defines, the same in every account (service -> (first
# segment, how many leading segments are AWS's)): Service Quotas ``<service-code>/<quota-code>``
# (``ec2/L-1216C47A``, any first segment), AWS Health ``event/<SERVICE>/<EVENT_TYPE_CODE>/<event id>``
# (only the event ID is specific). Their codes also stand alone in the same output (``"QuotaCode"``,
# ``"eventTypeCode"``), where masking them would hide what the quota or event is.
# Security Hub findings ``subscription/<standard>/v/<version>/<control>/finding/<id>`` (only the
# finding ID is specific; the same standard and control stand alone as ``"GeneratorId"``), and the same
# with consolidated control findings, ``security-control/<control>/finding/<id>`` (session 12).
_AWS_DEFINED_SEGMENTS: dict[str, tuple[tuple[str | None, int], ...]] = {
    "servicequotas": ((None, 2),), "health": (("event", 3),),
    "securityhub": (("subscription", 6), ("security-control", 3)),
    # the SWF form of a CloudWatch alarm's EC2 action (action/actions/AWS_EC2.InstanceId.Reboot/1.0)
    "swf": (("action", 4),)}
# Services whose ARNs without an account are AWS's own resources: Step Functions service
# integrations (``arn:aws:states:::lambda:invoke``), Security Hub standards, rulesets and products,
# EventBridge Scheduler's universal targets (``arn:aws:scheduler:::aws-sdk:ecs:runTask``).
# Not S3 or Route 53, whose customers' buckets and zones have no account in their ARNs.
_AWS_OWNED_WITHOUT_ACCOUNT = frozenset({"states", "securityhub", "scheduler"})
# Accounts AWS publishes public Lambda layers from, the same in every region (AWS's docs for each):
# Powertools for AWS Lambda (Python; TypeScript), the Lambda Insights extension, AWS Distro for
# OpenTelemetry, the AWS Parameters and Secrets Lambda Extension.
_AWS_LAYER_ACCOUNTS = frozenset({"017000801446", "094274105915", "580247275435", "901920570463", "177933569100"})
# Resource types whose ARNs without an account are AWS's: a Lambda runtime version (INIT_START's
# "Runtime Version ARN: arn:aws:lambda:eu-west-1::runtime:<64 hex>"), the same for every customer.
# Bedrock's foundation models (arn:aws:bedrock:<region>::foundation-model/anthropic.claude-...): AWS's catalogue.
# Elastic Beanstalk's platforms (arn:aws:elasticbeanstalk:<region>::platform/Python 3.11 running on ...).
_AWS_OWNED_TYPES_WITHOUT_ACCOUNT = {"lambda": "runtime:", "bedrock": "foundation-model/",
                                    "elasticbeanstalk": "platform/"}
# A resource without an account whose name AWS prefixes with its own (Control Tower's controls
# arn:aws:controltower:<region>::control/AWS-GR_RESTRICT_ROOT_USER, SSM's documents
# arn:aws:ssm:<region>::document/AWS-RunShellScript): AWS's catalogue. Bucket names are lower-case.
_AWS_NAMED_WITHOUT_ACCOUNT = re.compile(r"[A-Za-z-]+/AWS[-_][A-Za-z0-9]")
# A foundation model's ID, with a cross-region inference profile's geography prefix.
_BEDROCK_MODEL = re.compile(r"(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?(?:amazon|anthropic|ai21|cohere|meta|mistral|"
                            r"stability|deepseek|writer|luma|twelvelabs|openai|qwen)\.[a-z0-9][a-z0-9.-]*")
_MODEL_VARIANT = re.compile(r"[0-9]{1,3}k?")
# The session name an AWS service gives the role it assumes (assumed-role/<role>/AWS-Crawler: Glue's
# crawlers; AWSConfig-Describe): AWS or Amazon and words, no ID in it; and the default one botocore (the
# AWS CLI, boto3) gives an assume-role call: botocore-session-<epoch seconds>; the Go SDK's
# aws-go-sdk-<epoch ns or ms>, the JavaScript and Java SDKs' aws-sdk-js- / aws-sdk-java-<epoch ms>.
_AWS_SESSION = re.compile(r"(?:AWS|Amazon)-?[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)*|botocore-session-[0-9]{10}"
                          r"|aws-(?:go-sdk|sdk-js|sdk-java)-[0-9]{10,19}")
_RESOURCE_TYPE = re.compile(r"[a-z][A-Za-z-]*")
# Resource types whose ID is a UUID AWS generates for one run (arn:aws:batch:<region>:<account>:job/<uuid>): kept,
# as a request ID and every UUID under a label are; the job's name, queue and definition are still masked.
_RUN_UUID_TYPES = {"batch": "job"}
_RUN_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _label_kind(label: str) -> str | None:
    if label in HOST_SERVICES or label.startswith(("s3-", "s3.")) or REGION.fullmatch(label) \
            or SHORT_REGION.fullmatch(label) or (label.isdigit() and len(label) <= 4):
        return None
    if IP_LABEL.fullmatch(label):
        return "iplabel"
    if ACCOUNT.fullmatch(label):
        return "account"
    return "name"


# AWS endpoints whose first two labels AWS fixes (<label>.<service>.<region>.amazonaws.com): IAM Identity
# Center's device authorization and access portal, EKS's OIDC issuer, SageMaker's runtime and API.
_AWS_FIXED_HOSTS = frozenset({"device.sso", "portal.sso", "oidc.eks", "runtime.sagemaker", "api.sagemaker",
                              "runtime.lex", "a2i-runtime.sagemaker",
                              "featurestore-runtime.sagemaker", "api.ecr", "api.ecr-public"})
# Buckets AWS owns, the same for every customer: where Lambda keeps function code and layers, which
# get-function / get-layer-version presign (awslambda-<region>-tasks / -layers.s3.<region>.amazonaws.com).
_AWS_OWNED_BUCKET = re.compile(r"awslambda-[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]-(?:tasks|layers)")


_PRINCIPAL_LABEL = re.compile(r"[a-z]+(?:-[a-z]+)*")


def _aws_own_host(names: list[str]) -> bool:
    """Whether a host's labels name AWS's own endpoint or service principal, the same for everyone:
    ``<service>.amazonaws.com`` and ``<service>.<region>.amazonaws.com``; an endpoint whose first two
    labels AWS fixes (``device.sso.<region>.amazonaws.com``); a principal of more than one label, words
    only, with no region and no S3 (``delivery.logs.amazonaws.com``,
    ``member.org.stacksets.cloudformation.amazonaws.com``; S3's global endpoint,
    ``bucket.s3.amazonaws.com``, is the one customer host without a region)."""
    if names[-2:] == ["amazonaws", "com"] and (
            len(names) == 3 or (len(names) == 4 and REGION.fullmatch(names[1]))
            or (all(_PRINCIPAL_LABEL.fullmatch(lab) for lab in names[:-2])
                and not any(lab == "s3" or lab.startswith("s3-") for lab in names))):
        return True
    return len(names) == 5 and f"{names[0]}.{names[1]}" in _AWS_FIXED_HOSTS and bool(REGION.fullmatch(names[2]))


def hostname(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """``<resource labels>.<service/region>.amazonaws.com``: the labels before the first region."""
    start, end = _span(m)
    labels = [(lm.start() + start, lm.group()) for lm in re.finditer(r"[^.]+", text[start:end])]
    names = [lab for _, lab in labels]
    if _aws_own_host(names):
        return []
    if _AWS_OWNED_BUCKET.fullmatch(names[0]):
        return []  # awslambda-<region>-tasks.s3.<region>.amazonaws.com: Lambda's own code bucket
    if names[1:3] == ["d", "codeartifact"] and len(names) > 3 and REGION.fullmatch(names[3]):
        # a CodeArtifact repository endpoint, <domain>-<owner>.d.codeartifact.<region>.amazonaws.com: the
        # first label is the customer's (one token, so its pseudonym restores whole); "d.codeartifact" is AWS's
        return [(labels[0][0], labels[0][0] + len(names[0]), "name")]
    stop = next((i for i, lab in enumerate(names) if REGION.fullmatch(lab) or SHORT_REGION.fullmatch(lab)),
                None)
    if stop is None:
        stop = next((i for i, lab in enumerate(names) if _label_kind(lab) is None), len(names))
    parts: list[Part] = []
    s3 = next((i for i, lab in enumerate(names[:stop + 1]) if lab == "s3" or lab.startswith("s3-")), None)
    if s3 is not None and s3 > 1 and all(_label_kind(lab) == "name" for lab in names[:s3]):
        # Virtual-hosted S3 (my.dotted.bucket.s3.amazonaws.com): the labels before s3 are ONE bucket
        # name, masked as in s3://my.dotted.bucket, so both get the same pseudonym.
        first, last = labels[0], labels[s3 - 1]
        return [(first[0], last[0] + len(last[1]), "name")]
    for n, (pos, label) in enumerate(labels[:stop]):
        if n + 1 < len(names) and label in _HOST_STAGE.get(names[n + 1], ()):
            continue
        label_kind = _label_kind(label)
        if label_kind is not None:
            parts.append((pos, pos + len(label), label_kind))
    return parts


def internal_hostname(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """``ip-10-0-1-5.ec2.internal``: the IP label."""
    start, end = m.span("value")
    return [(start, end, "iplabel")] if IP_LABEL.fullmatch(text[start:end]) else []


NAME_MAX = 255   # no AWS resource name is longer (S3: 63, most others 64-255)


def name_shaped(token: str) -> bool:
    """A resource name in prose: letters and digits with a '-', or a letter-digit mix; not a word."""
    if len(token) < 3 or len(token) > NAME_MAX or not SAFE.fullmatch(token):
        return False
    has_sep = any(c in "-_." for c in token)
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    if not has_alpha:
        return False
    if "." in token and not ("-" in token or has_digit):
        return False  # file.txt, example.com
    return has_sep or has_digit


# Short English words that join hyphenated phrases (end-to-end, up-to-date, state-of-the-art).
PHRASE_WORDS = frozenset("to of the and or in on by for a an at as per vs via with".split())


def english_phrase(token: str) -> bool:
    """A hyphenated English phrase rather than a name: one of its parts is a joining word."""
    return any(part in PHRASE_WORDS for part in token.lower().split("-"))


# A CamelCase name of three humps or more (OrionBillingStack, AcmeEventsTable): under a label that
# names the resource (ORDERS_TABLE = "..."), a name; two humps (MyTable) are too often a word in code.
CAMEL_NAME = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+){2,}")
# Two humps (OrdersService): a word in code, a name only under a label that says so (``camel: 2``).
CAMEL_NAME_2 = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+")


def namelist(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """One or more names after a label ("S3 buckets: a and b"); each must look like a resource name.
    Weak labels narrow it with params: ``no_phrases`` (a hyphenated English phrase such as end-to-end
    is not a name) and ``need_separator`` (a name holds ``-`` or ``_``: EC2, IPv6, x86 are words);
    a strong one widens it: ``camel`` (a CamelCase name of three humps counts too; ``camel: 2``, two
    humps, for a label whose every item is a name); ``keep`` lists tokens that are the vendor's own."""
    start, end = _span(m)
    out = []
    no_phrases = params.get("no_phrases", False)
    need_sep = params.get("need_separator", False)
    camel = params.get("camel", False)
    camel_re = CAMEL_NAME_2 if camel == 2 and camel is not True else CAMEL_NAME
    keep = params.get("keep", ())
    for t in NAME_TOKEN.finditer(text, start, end):
        token = t.group()
        if token in ("and", "or") or token in keep or nothing_secret(token) or not (
                name_shaped(token) or camel and camel_re.fullmatch(token) and token not in AWS_FIXED_ROLES):
            continue
        if (no_phrases and english_phrase(token)) or (need_sep and "-" not in token and "_" not in token):
            continue
        out.append((t.start(), t.end(), kind))
    return out


def _path_parts(text: str, start: int, end: int, kind: str) -> list[Part]:
    """Each ``/`` or ``:`` separated segment of a path-like name on its own, as ARN resources are cut:
    the same log group or repository gets the same pseudonyms in a JSON key, a flag and an ARN, and no
    pseudonym contains ``/`` (a ``/`` inside a pseudonym would keep it from restoring after ``host/``)."""
    parts: list[Part] = []
    for off, value, secret in _segments(text, start, end):
        if secret:
            kind_ = _segment_kind(value)
            parts.append((off, off + len(value), kind if kind_ == "name" else kind_))
    return parts


# Values AWS defines under generic keys ("State": {"Name": "running"}, "GroupName": "default"): states
# and defaults, never a customer's name.
ENUM_VALUES = frozenset("""
    running stopped stopping pending terminated shutting-down available default enabled disabled active
    inactive creating deleting deleted failed in-use attached detached modifying rebooting
""".split())
# "Name" of an EC2 filter: {"Name": "instance-state-name", "Values": [...]}.
FILTER_NAME = re.compile(r'(?:[\x00\\]*\\)?"\s*,\s*(?:[\x00\\]*\\)?"Values(?:[\x00\\]*\\)?"')
# "Name" of a name / value pair spelled as an AWS member (a CloudWatch dimension: {"Name": "QueueName",
# "Value": "orders-dlq"}): the pair's key, AWS's word; its value is the resource (dimension-name-value).
MEMBER_NAME = re.compile(r"(?:[A-Z][a-z0-9]+)+(?:Name|Id|Identifier|Arn|ARN|ID)")
PAIR_VALUE_KEY = re.compile(r'(?:[\x00\\]*\\)?"[ \t]*,(?:\s|[\x00\\]+[nrt]){0,40}'
                            r'(?:[\x00\\]*\\)?"Value(?:[\x00\\]*\\)?"')


def pair_name(text: str, start: int, end: int) -> bool:
    """The value at ``start:end`` names the key of a name / value pair (``MEMBER_NAME``, then a "Value" key)."""
    return MEMBER_NAME.fullmatch(text, start, end) is not None and PAIR_VALUE_KEY.match(text, end) is not None


# A PascalCase key whose list or object describes fields, columns, dimensions, attributes or headers
# (AWS Config's SelectFields, CloudWatch's Dimensions, Cognito's UserAttributes): a generic "Name" / "Id"
# of its items names a key of someone's data, not a resource (what the corpus labeller calls a
# structure that describes a key; Parameters and Tags are not among them: an SSM parameter is a resource).
_KEY_PARENT = re.compile(r'"(?:[A-Z][A-Za-z0-9]*)?(?:Fields|Columns|Dimensions|Attributes|Headers)[\\\x00]*"[ \t]*:'
                         r'(?:[ \t\r\n]|[\\\x00][nrt])*[\[{]')


_NAME_KEY = re.compile(r'[\\\x00]*"Name[\\\x00]*"')
_SERVICE_FLAG = re.compile(r"--service(?![A-Za-z0-9-])")


def under_key_parent(text: str, label_start: int) -> bool:
    """The key at ``label_start`` is a key of an item (or of the object) under such a parent key."""
    lo = max(0, label_start - 400)
    ends = [m.end() for m in _KEY_PARENT.finditer(text, lo, label_start)]
    return bool(ends) and directly_under(text, ends[-1] - 1, label_start)


_BRACKETS = re.compile(r"[\[\]{}]")


def directly_under(text: str, opener: int, label_start: int) -> bool:
    """The key at ``label_start`` is a key of the object that opens at ``opener`` (``{``), or of an
    item of the list that opens there (``[``): brackets between them balance but for that one brace."""
    braces = brackets = 0
    for ch in _BRACKETS.findall(text, opener + 1, label_start):
        if ch == "{":
            braces += 1
        elif ch == "}":
            braces -= 1
        elif ch == "[":
            brackets += 1
        else:
            brackets -= 1
        if braces < 0 or brackets < 0:
            return False
    return (braces, brackets) == ((0, 0) if text[opener] == "{" else (1, 0))


def any_at_level(text: str, pos: int, others: list[int], lo: int, hi: int) -> bool:
    """Whether one of ``others`` (positions in ``[lo, hi)``, none a bracket) stands directly in the JSON
    object ``pos`` stands in: the brackets between them balance and never close one opened before the
    first. One pass over the brackets of ``[lo, hi)``, however many ``others`` there are (checking each
    pair on its own cost a pass per pair: a dense list of findings, ~130 per ID)."""
    brackets = [(m.start(), m.group() in "{[") for m in _BRACKETS.finditer(text, lo, hi)]
    starts = [b[0] for b in brackets]
    depth = [0]                          # depth[j]: openers minus closers among the first j brackets
    for _, opens in brackets:
        depth.append(depth[-1] + (1 if opens else -1))
    k = bisect.bisect_left(starts, pos)
    level = depth[k]
    left = next((j for j in range(k - 1, -1, -1) if depth[j] < level), -1)
    right = next((j for j in range(k + 1, len(depth)) if depth[j] < level), len(depth))
    for other in others:
        j = bisect.bisect_left(starts, other)
        if left < j < right and depth[j] == level:
            return True
    return False


def context_value(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """A value named by its key or flag (``"BucketName": "x"``, ``--bucket x``): any safe token;
    path-like values (``/aws/lambda/x``, ``team/app``) segment by segment."""
    start, end = _span(m)
    value = text[start:end]
    if params.get("fields_under") and _NAME_KEY.match(text, m.start()) and under_key_parent(text, m.start()):
        return []  # "SelectFields": [{"Name": "accountId"}]: a field's name (under_key_parent)
    if not SAFE.fullmatch(value) or value.lower() in ("null", "none", "true", "false", "") \
            or value.startswith(("$", "${", "<", "var.", "local.", "aws_", "com.amazonaws.")) \
            or value.endswith(".amazonaws.com") or nothing_secret(value) or value in ENUM_VALUES \
            or value.startswith("tag:") or FILTER_NAME.match(text, end) or pair_name(text, start, end) \
            or AWS_DEFAULT_NAME.fullmatch(value):
        return []
    keep = params.get("keep_values")
    if keep is not None and _AWS_WORD_PARTS.fullmatch(value) and value in keep:
        return []  # instance-state-name, in-use: AWS's words (vocab.yaml's enum values and filter names)
    codes = params.get("service_codes")
    if codes is not None and _SERVICE_FLAG.match(text, m.start()) and value in codes:
        return []  # awscurl --service execute-api: the service a request is signed for, an AWS service code
    if _NAME_KEY.match(text, m.start()) and in_state_object(text, m.start()):
        return []  # "State": {"Name": "ChargeCard"}: a state's name, not a resource's
    if "/" in value or ":" in value:
        return _path_parts(text, start, end, kind)
    return [(start, end, kind)]


# A "Name" key directly in an object under a "State" key is a state's name: every botocore structure
# held under a member named State that has a Name (EC2's InstanceState) holds an enum there
# ("running"), and a Step Functions context object's "State": {"Name": "ChargeCard", "EnteredTime":
# ..., "RetryCount": 0} names a state of the machine's definition, as its "StartAt" and "Next" do:
# no resource of the account. So does the "name" of an execution history's "stateEnteredEventDetails" /
# "stateExitedEventDetails" (get-execution-history: the state entered or left).
_STATE_OPEN = re.compile(r'"(?:State|state(?:Entered|Exited)EventDetails)[\\\x00]*"'
                         r'[ \t]*:(?:[ \t\r\n]|[\\\x00][nrt])*\{')
_BRACES = re.compile(r"[{}]")
_STATE_REACH = 400


def in_state_object(text: str, key_start: int) -> bool:
    """The key at ``key_start`` stands directly in an object that a ``"State"`` key opens (within
    ``_STATE_REACH`` characters before it): the braces between balance. Linear in the reach."""
    lo = max(0, key_start - _STATE_REACH)
    at = max(text.rfind('"State', lo, key_start), text.rfind('"state', lo, key_start))
    while at >= 0:
        opened = _STATE_OPEN.match(text, at)
        if opened is not None and opened.end() <= key_start:
            break
        at = max(text.rfind('"State', lo, at), text.rfind('"state', lo, at))
    else:
        return False
    depth = 0
    for ch in _BRACES.findall(text, opened.end(), key_start):
        depth += 1 if ch == "{" else -1
        if depth < 0:
            return False
    return depth == 0


# Lower-case words of several parts: the only values context_value looks up in ``keep_values``
# (a one-word enum value such as "test" or "web" is as often a customer's name).
_AWS_WORD_PARTS = re.compile(r"[a-z][a-z0-9]*(?:[-.:][a-z0-9]+)+")


def mixed_id(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Opaque uppercase IDs (Route 53 zones, CloudFront distributions): need digits and letters."""
    start, end = _span(m)
    if _REQUEST_ID_KEY.search(text, max(0, start - 40), start):
        return []  # "x-amz-request-id": "ZFMS37MF7931O63O", CloudTrail's "requestID": one per request
    body = text[start + 1:end]
    digits = sum(c.isdigit() for c in body)
    letters = sum(c.isalpha() for c in body)
    if digits >= params.get("min_digits", 1) and letters >= params.get("min_letters", 1):
        return [(start, end, kind)]
    return []


# A request ID's key right before the value (S3's x-amz-request-id header, CloudTrail's requestID): S3
# request IDs are 16 upper-case letters and digits, the shape of a hosted zone or a distribution ID.
_REQUEST_ID_KEY = re.compile(r'(?i)request[-_]?id[\x00\\]*"?[ \t]*[:=][ \t]*[\x00\\]*"?\Z')


# ... and the numbers of a specification's sections and steps (HTML's "8.2.4.44", Fetch's step 12.1.1.3),
# a changelog's upgrades ("v8: upgrade to 3.22.24.19", "bump V8 to 3.15.11.5") and OIDs (1.3.101.110)
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|version|release|build|sections?|step|§|\boid|==|~|\^"
                              r"|\b(?:upgrade[ds]?|update[ds]?|bump(?:ed|s)?)(?:\s+[\w.-]+)?\s+to"
                              r"|\bupgrade[ds]?)\s*[\"'(]?$")
_VERSION_WORD = re.compile(r"(?i)\b(?:version|release|build)\s*$")  # private addresses: words only


def ipv4(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    start, end = _span(m)
    a, b, _, _ = map(int, text[start:end].split("."))
    if a in (0, 127) or a >= 224 or (a == 169 and b == 254):
        return []  # this-network, loopback, multicast/reserved, link-local and the metadata address
    private = a == 10 or (a == 172 and 16 <= b < 32) or (a == 192 and b == 168) or (a == 100 and 64 <= b < 128)
    cidr = m.group("cidr") if "cidr" in m.re.groupindex else None   # no dict of every group per hit
    if not cidr and end - start == 7 and len(set(text[start:end:2])) > 1:
        return []  # 2.4.0.1: four single digits, not all the same (1.1.1.1 is a host), is a version
    if not cidr:
        before = text[max(0, start - 24):start]
        if private:
            if _VERSION_WORD.search(before):
                return []  # release 10.0.1.2: a version, not a host
        elif text[end - 2:end] == ".0" or _VERSION_CONTEXT.search(before):
            return []  # 20.11.1.0, version 1.2.3.4, ==1.2.3.4: versions, not hosts
        return [(start, end, kind)]
    return _address_or_network(text, start, end, kind)


def ipv6(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    start, end = _span(m)
    value = text[start:end]
    groups = value.split(":")
    if len(groups) < 3 or not any(len(g) >= 3 for g in groups):
        return []
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return []
    if addr.is_loopback or addr.is_link_local or addr.is_unspecified or addr.is_multicast or addr in _EC2_LOCAL:
        return []  # fd00:ec2::/64 holds EC2's own services (metadata ::254, DNS ::253, time ::123)
    return _address_or_network(text, start, end, kind)


_EC2_LOCAL = ipaddress.IPv6Network("fd00:ec2::/64")
_PREFIX_LENGTH = re.compile(r"/([0-9]{1,3})(?![0-9])")


def _address_or_network(text: str, start: int, end: int, kind: str) -> list[Part]:
    """The address at ``start:end``, or with the prefix length after it when every bit past that is
    zero (``10.0.3.0/24``): a network, one original, whose pseudonym stays a network holding its
    hosts' pseudonyms (``pseudonyms.Generator.network``). An interface's ``10.0.3.7/24`` is a host."""
    m = _PREFIX_LENGTH.match(text, end)
    if m is not None:
        try:
            network = ipaddress.ip_network(f"{text[start:end]}/{m.group(1)}")     # strict: no host bit set
        except ValueError:
            pass
        else:
            if network.prefixlen <= kept_bits(network.network_address):
                return []   # 10.0.0.0/8, fd00::/8: a whole range pseudonyms keep, nobody's network
            return [(start, m.end(), kind)]
    return [(start, end, kind)]
_ROW_TAG = re.compile(r"[A-Z][A-Z0-9]{2,40}(?:\t|[\\\x00]+t)")   # a tab, \\t or \\\\t (NUL NUL t)
ROW_LOOKBACK = 4000


def cli_text_row(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """A field of an AWS CLI ``--output text`` row: its line (after a real or a JSON-escaped line
    break, or the quote that opens a JSON string) must start with an upper-case tag and a tab
    (``SECURITYGROUPS\t...``)."""
    start, end = _span(m)
    lo = max(0, start - ROW_LOOKBACK)
    real = text.rfind("\n", lo, start)
    escaped = max(text.rfind("\\n", lo, start), text.rfind("\x00n", lo, start))   # \\n: JSON in JSON
    line = max(real + 1 if real >= 0 else -1, escaped + 2 if escaped >= 0 else -1)
    if line < 0:
        if lo:
            return []  # no line start within reach
        line = 0
    if _ROW_TAG.match(text, line):
        return [(start, end, kind)]
    # The row opens a JSON string ("SECURITYGROUPS\t...), or one inside a JSON string (\"SECURITY...).
    quote = text.rfind('"', line, start)
    if quote >= 0 and _ROW_TAG.match(text, quote + 1):
        return [(start, end, kind)]
    return []


def ecr_repository(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """An ECR repository path (context_value), except under a registry AWS owns: the EKS add-on image
    registries (``602401143452.dkr.ecr.<region>.amazonaws.com/amazon-k8s-cni``) and the Deep Learning
    Containers' (``763104351884.dkr.ecr.<region>.amazonaws.com/pytorch-training``), whose repositories
    are AWS's images, the same for everyone."""
    at = m.start()
    if at >= 12 and text[at - 12:at] in AWS_REGISTRY_ACCOUNTS and not (at > 12 and text[at - 13].isdigit()):
        return []
    return context_value(text, m, params, kind)


SPLITTERS: dict[str, Callable[[str, re.Match, dict, str], list[Part]]] = {
    "whole": whole, "arn": _memoized(arn), "hostname": _memoized(hostname), "internal_hostname": internal_hostname,
    "namelist": namelist, "context_value": context_value, "mixed_id": mixed_id, "ipv4": ipv4,
    "ipv6": ipv6, "cli_text_row": cli_text_row, "ecr_repository": ecr_repository,
}


# Context splitters (labels, table headers, console routes) live in their own module.
from agent.engine.context_splitters import CONTEXT_SPLITTERS  # noqa: E402

SPLITTERS.update(CONTEXT_SPLITTERS)
