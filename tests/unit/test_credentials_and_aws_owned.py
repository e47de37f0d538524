"""Credentials under any credential-like key or in a URI's userinfo are masked; values AWS owns (the same
in every account) and public or per-event values are kept, by family, not by example (variants-9's and
variants-11's over-masking: CodeDeploy defaults, S3 website-endpoint zones, EKS add-on registries, RDS CAs ...).

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
    # variants-11's over-masking: S3 website-endpoint hosted zones, EKS add-on registries, RDS CAs, SAM change
    # sets, Elastic Beanstalk's and EMR's default roles, an SDK's constant for an AWS managed policy
    # S3 website-endpoint zones of every region the sources agree on, under any label
    ('    hosted_zone_id              = "Z1BKCTXD74EZPE"\n    bucket = "acme-site-prod"\n', ["acme-site-prod"],
     ["Z1BKCTXD74EZPE"]),
    ('{"AliasTarget": {"HostedZoneId": "Z3AQBSTGFYJSTF", "DNSName": "s3-website-us-east-1.amazonaws.com."}}', [],
     ["Z3AQBSTGFYJSTF"]),
    ('    hostedZoneId: "Z2O1EMRO9K5GLX",\n    bucket: "acme-site-prod",\n', ["acme-site-prod"], ["Z2O1EMRO9K5GLX"]),
    # a customer's own zone is still masked
    ('hosted_zone_id = "Z0123456789ABCDEFGHIJ"\n', ["Z0123456789ABCDEFGHIJ"], []),
    # EKS add-on images: the registry account and the repository are AWS's; a customer's registry is not
    ("image: 602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.1-eksbuild.3\n"
     "image: 066635153087.dkr.ecr.il-central-1.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.1\n"
     "image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders-api:1.4\n",
     ["111122223333", "orders-api"],
     ["602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.1-eksbuild.3",
      "066635153087.dkr.ecr.il-central-1.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.1"]),
    # RDS certificate authorities, under their labels and in their account-less ARNs
    ("  CACertificateIdentifier: rds-ca-rsa2048-g1\n  DBInstanceIdentifier: orders-db-prod\n", ["orders-db-prod"],
     ["rds-ca-rsa2048-g1"]),
    ('{"CertificateArn": "arn:aws:rds:us-west-2::cert:rds-ca-ecc384-g1", "CertificateIdentifier": "rds-ca-2019"}', [],
     ["rds-ca-ecc384-g1", "rds-ca-2019"]),
    # the SAM CLI's change set name inside a change set ARN; the stack beside it is masked
    ("ChangeSetId : arn:aws:cloudformation:eu-west-1:111122223333:changeSet/samcli-deploy1717233267/"
     "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\nStackName : orders-stack-prod\n",
     ["111122223333", "orders-stack-prod"], ["samcli-deploy1717233267"]),
    # Elastic Beanstalk's and EMR's default instance profiles; a customer's profile is masked
    ('iam_instance_profile = "aws-elasticbeanstalk-ec2-role"\n"iam_instance_profile": "EMR_EC2_DefaultRole"\n'
     'iam_instance_profile = "bastion-profile-prod"\n', ["bastion-profile-prod"],
     ["aws-elasticbeanstalk-ec2-role", "EMR_EC2_DefaultRole"]),
    # an SDK's constant for an AWS managed policy (Pulumi TypeScript and Python)
    ("    policyArn: aws.iam.ManagedPolicy.AWSLambdaBasicExecutionRole,\n"
     "    policy_arn=aws.iam.ManagedPolicy.AMAZON_S3_READ_ONLY_ACCESS,\n", [],
     ["aws.iam.ManagedPolicy.AWSLambdaBasicExecutionRole", "aws.iam.ManagedPolicy.AMAZON_S3_READ_ONLY_ACCESS"]),
    # session 12 (variants-13, -14): AWS Backup's and ECS's default roles, AppConfig's predefined strategies,
    # Transfer Family's and ELB's predefined security policies, a Scheduler universal target; what the customer
    # names beside them is masked
    ('{"IamRoleArn": "arn:aws:iam::523232218340:role/service-role/AWSBackupDefaultServiceRole",\n'
     ' "executionRoleArn": "arn:aws:iam::523232218340:role/ecsTaskExecutionRole",\n'
     ' "taskRoleArn": "arn:aws:iam::523232218340:role/ecsTaskExecutionRole-orders"}',
     ["523232218340", "ecsTaskExecutionRole-orders"], ["AWSBackupDefaultServiceRole", '/ecsTaskExecutionRole"']),
    ('"DeploymentStrategyId": "AppConfig.Linear50PercentEvery30Seconds",\n"SecurityPolicyName": '
     '"TransferSecurityPolicy-2024-01",\n"SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",\n'
     '"ServerId": "s-0a1b2c3d4e5f60718"', [],
     ["AppConfig.Linear50PercentEvery30Seconds", "TransferSecurityPolicy-2024-01",
      "ELBSecurityPolicy-TLS13-1-2-2021-06"]),
    ('"Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask",'
     ' "RoleArn": "arn:aws:iam::523232218340:role/sched-x"},\n'
     '"ScheduleArn": "arn:aws:scheduler:us-east-1:523232218340:schedule/default/nightly-export"',
     ["523232218340", "sched-x", "nightly-export"], ["arn:aws:scheduler:::aws-sdk:ecs:runTask"]),
    # AWS itself as the company or vendor (ASFF, managed rule groups); a consolidated control finding's ARN
    # keeps its control, as its GeneratorId beside it does
    ('{"Id": "arn:aws:securityhub:us-east-1:523232218340:security-control/S3.8/finding/'
     '0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e", "CompanyName": "AWS", "GeneratorId": "security-control/S3.8",'
     ' "VendorName": "AWS", "RuleGroupName": "orders-waf-rules"}',
     ["523232218340", "orders-waf-rules"], ['"AWS"', "security-control/S3.8/finding/"]),
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
