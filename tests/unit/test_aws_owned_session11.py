"""Values AWS owns that come through unchanged, by family (session 11, variants-11's over-masking): the
S3 website-endpoint hosted zones, the EKS add-on image registries and their repositories, RDS's
certificate authorities, the SAM CLI's change set names, Elastic Beanstalk's and EMR's default roles,
and an SDK's constant for an AWS managed policy; customers' values beside them are still masked.

Each case runs as text and inside a Messages request. Values are made up (AWS documentation accounts).
"""

from __future__ import annotations

import pytest

from tests.support.masker_support import masker, message_text, request

# (text, must be gone, must stay exactly as often as they were)
CASES = [
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
