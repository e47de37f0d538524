"""Credentials under any credential-like key or in a URI's userinfo are masked; values AWS owns (the same
in every account) and public or per-event values are kept, by family, not by example (variants-9, fixa).

Each case runs as text and inside a Messages request. Values are made up (AWS documentation accounts).
"""

from __future__ import annotations

import pytest

from tests.support.masker_support import masker, message_text, request

SIG = "7c1e0f3d9a2b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
# (text, must be gone, must stay exactly as often as they were)
CASES = [
    # credentials: a password under any credential-like key, in every spelling
    ("spring.datasource.password=Vq3mTz8LkR2wXb7N\n", ["Vq3mTz8LkR2wXb7N"], ["spring.datasource.password="]),
    ("outputs:\n  prod:\n    password: \"Vq3mTz8LkR2wXb7N\"\n    port: 5439\n", ["Vq3mTz8LkR2wXb7N"], ["port: 5439"]),
    ("MYSQL_ROOT_PASSWORD=Vq3mTz8LkR2wXb7N\nDB_PASS=Hx9pQw2ZcV4nMk8J\n", ["Vq3mTz8LkR2wXb7N", "Hx9pQw2ZcV4nMk8J"], []),
    ('{"clientId": "abc", "clientSecret": "eyJraWQiOi.Vq3mTz8LkR2wXb7N_Hx9pQw2-ZcV4nMk8J", "region": "us-east-1"}',
     ["Vq3mTz8LkR2wXb7N_Hx9pQw2-ZcV4nMk8J"], ['"region": "us-east-1"']),
    ('{"accessToken": "aoaVq3mTz8LkR2wXb7NHx9pQw2ZcV4nMk8J", "refreshToken": "aorHx9pQw2ZcV4nMk8JVq3mTz8LkR2wXb7N"}',
     ["aoaVq3mTz8LkR2wXb7NHx9pQw2ZcV4nMk8J", "aorHx9pQw2ZcV4nMk8JVq3mTz8LkR2wXb7N"], []),
    ('"bgpPeers": [{"asn": 65010, "authKey": "Vq3.mTz8LkR2wXb7NHx9pQw2"}]', ["Vq3.mTz8LkR2wXb7NHx9pQw2"],
     ['"asn": 65010']),
    ("  - Pre-Shared Key           : Vq3mTz8L_kR2wXb7N.Hx9pQw2ZcV4nMk8\n", ["Vq3mTz8L_kR2wXb7N.Hx9pQw2ZcV4nMk8"], []),
    # a URI's userinfo
    ("MONGO_URI=mongodb://app:Vq3mTz8LkR2wXb7N@docs.cluster-abc.us-east-1.docdb.amazonaws.com:27017/?tls=true",
     ["Vq3mTz8LkR2wXb7N"], ["tls=true"]),
    # a SigV4 signature
    ("X-Amz-Date=20240514T102233Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=" + SIG, [SIG],
     ["X-Amz-Expires=900"]),
    # placeholders, references and ordinary words pass
    ("password: ${DB_PASSWORD}\nsecret: \"$API_SECRET\"\ntoken: <your-token>\npassword: \"********\"\n", [],
     ["${DB_PASSWORD}", "$API_SECRET", "<your-token>", "********"]),
    ("password = var.db_password\nauth_token = os.environ[\"AUTH_TOKEN\"]\npassword: changeme\n", [],
     ["var.db_password", "changeme"]),
    ("postgresql://user:${DB_PASSWORD}@db:5432/app and amqp://guest:guest@rabbit:5672", [],
     ["${DB_PASSWORD}", "guest:guest"]),
    ('"NextToken": "eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="', [],
     ["eyJNYXJrZXIiOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="]),
    # AWS-owned: every CodeDeploy predefined configuration, SageMaker's default variant, Bedrock's test alias
    ('{"deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes", '
     '"applicationName": "orders-api-prod"}', ["orders-api-prod"], ["CodeDeployDefault.LambdaCanary10Percent5Minutes"]),
    ("aws deploy create-deployment --application-name orders-api-prod "
     "--deployment-config-name CodeDeployDefault.OneAtATime",
     ["orders-api-prod"], ["CodeDeployDefault.OneAtATime"]),
    ("arn:aws:codedeploy:us-east-1:111122223333:deploymentconfig:CodeDeployDefault.ECSAllAtOnce",
     ["111122223333"], ["CodeDeployDefault.ECSAllAtOnce"]),
    ('"ProductionVariants": [{"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge"}]', [], ["AllTraffic"]),
    ("aws sagemaker update-endpoint-weights-and-capacities --endpoint-name churn-ep-prod "
     "--desired-weights-and-capacities "
     "VariantName=AllTraffic,DesiredWeight=1", ["churn-ep-prod"], ["VariantName=AllTraffic"]),
    ('rt.invoke_agent(agentId="AB12CD34EF", agentAliasId="TSTALIASID", sessionId=sid)', ["AB12CD34EF"], ["TSTALIASID"]),
    # foundation-model ARNs have no account: AWS's catalogue
    ("arn:aws:bedrock:eu-west-1::foundation-model/meta.llama3-70b-instruct-v1:0 and "
     "arn:aws:bedrock:eu-west-1:111122223333:provisioned-model/a1b2c3d4e5f6",
     ["111122223333", "a1b2c3d4e5f6"], ["foundation-model/meta.llama3-70b-instruct-v1:0"]),
    # and so are the model IDs in a system inference profile's or a custom model's ARN
    ("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
     ["111122223333"], ["inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"]),
    ("arn:aws:bedrock:us-east-1:111122223333:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6",
     ["111122223333", "a1b2c3d4e5f6"], ["custom-model/amazon.titan-text-express-v1:0:8k/"]),
    # a session name an AWS service sets; the customer's role stays masked
    ('"CreatedBy": "arn:aws:sts::111122223333:assumed-role/AWSGlueServiceRole-orders_etl/AWS-Crawler"',
     ["111122223333", "AWSGlueServiceRole-orders_etl"], ["/AWS-Crawler"]),
    ("arn:aws:sts::111122223333:assumed-role/deploy-bot/AWS-Crawler-7f3a", ["deploy-bot", "AWS-Crawler-7f3a"], []),
    # AWS endpoints whose labels AWS fixes
    ("open https://device.sso.eu-west-1.amazonaws.com/ and https://oidc.eks.us-east-1.amazonaws.com/id/X",
     [], ["https://device.sso.eu-west-1.amazonaws.com/", "oidc.eks.us-east-1.amazonaws.com"]),
    # content digests and public advisory IDs
    ('"id": "arn:aws:ecr:us-east-1:111122223333:repository/orders-api/sha256:'
     '94cc71eac3bc93e4dbe960d2d09871d46ca381e7b00e5d735bd5fa4e0d64ff36", "vulnerabilityId": "CVE-2024-3094"',
     ["111122223333", "orders-api"], ["sha256:94cc71eac3bc93e4dbe960d2d09871d46ca381e7b00e5d735bd5fa4e0d64ff36",
                                       "CVE-2024-3094"]),
    # a finding's own ID beside its severity (per finding, like a request ID); a job's ID stays masked
    ('{"accountId": "111122223333", "id": "5e694df3c28189a842deff2f8b387cdf", "severity": {"score": 3}, '
     '"jobArn": "arn:aws:macie2:us-east-1:111122223333:classification-job/0f1e2d3c4b5a69788796a5b4c3d2e1f0"}',
     ["111122223333", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"], ["5e694df3c28189a842deff2f8b387cdf"]),
    ('{"id": "5e694df3c28189a842deff2f8b387cdf", "accountId": "111122223333", "resourcesAffected": {"s3Bucket": '
     '{"arn": "arn:aws:s3:::orders-exports-prod", "name": "orders-exports-prod"}}, "severity": {"score": 3}}',
     ["111122223333", "orders-exports-prod"], ["5e694df3c28189a842deff2f8b387cdf"]),
]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("n", range(len(CASES)))
def test_case(n, as_json):
    text, gone, kept = CASES[n]
    m = masker()
    if as_json:
        out = message_text(m.mask_body(request(text), "application/json").body)
    else:
        out = m.mask_body(text.encode(), "text/plain").body.decode()
    for i, v in enumerate(gone):
        assert v not in out, f"case {n}: value {i} survives"
    for i, v in enumerate(kept):
        assert out.count(v) == text.count(v), f"case {n}: kept value {i} changed"
