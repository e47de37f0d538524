# ruff: noqa: E501  (templates read best one per line)
"""An independent generator of realistic artifacts, class by class (issue 13), and their measurement.

Each case composes made-up AWS grammar pieces (regions, AZs, accounts, EC2-family IDs, names, ARNs,
hosts, keys) into a context people paste: account labels, credential files, prose and tables, CLI
``--output table|text``, console URLs, AWS hosts outside amazonaws.com, boundary cases, CJK labels,
labels in any spelling, SDK code (JS v3, Go, Java, Rust, boto3), Terraform and CloudFormation.
The ``negative`` class holds what must come through unchanged (enum values under generic keys, AWS
words inside hosts and ARNs, versions, the IPv6 metadata address, UUIDs, SHAs, times, code).

The generator is written apart from the packs: it knows the grammar of AWS values and of the
contexts, never the detectors' regexes. ``measure`` runs every case through the real engine, as a
JSON Messages body and as text, and counts, per class:

- recall: the share of must-mask values that no longer appear in the output in any decoded form
  (plain, percent-decoded once or twice, console ``$25``-encoded, ``\\uXXXX`` or JSON escapes);
- pass: the share of cases with every must-mask value gone and every must-keep value kept, in both modes;
- kept: the share of must-keep values that come out exactly as often as they went in.

All values are made up here (random digits and words), so printing counts and shares is safe.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2",
           "ap-northeast-1", "sa-east-1", "ca-central-1", "eu-north-1"]
_PREFIX = ["acme", "orion", "helios", "nimbus", "zephyr", "kestrel", "borealis", "quokka", "tundra",
           "vireo", "calyx", "lumen"]
_MIDDLE = ["orders", "billing", "payments", "ingest", "analytics", "media", "auth", "search", "events",
           "reports", "ledger", "catalog", "checkout", "notify"]
_SUFFIX = ["prod", "staging", "dev", "logs", "data", "archive", "backup", "assets", "uploads", "etl",
           "primary", "worker", "api", "store"]
_PEOPLE = ["m.kowalski", "j.nakamura", "a.okafor", "s.lindqvist", "p.moreau", "d.alvarez"]
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass
class Case:
    cls: str
    text: str
    must_mask: list[str]
    must_keep: list[str] = field(default_factory=list)
    template: str = ""
    escape_digits: bool = False   # in the JSON body, write every digit as a \\u00XX escape


class Gen:
    """Made-up AWS values; every call gives a fresh one."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def pick(self, seq):
        return self.r.choice(seq)

    def region(self) -> str:
        return self.pick(REGIONS)

    def az(self) -> str:
        return self.region() + self.pick("abc")

    def account(self) -> str:
        while True:
            v = str(self.r.randint(1, 9)) + "".join(str(self.r.randint(0, 9)) for _ in range(11))
            if len(set(v)) > 3 and v != "123456789012":
                return v

    def hexid(self, prefix: str, n: int = 17) -> str:
        return prefix + "-" + "".join(self.pick("0123456789abcdef") for _ in range(n))

    def iid(self) -> str:
        return self.hexid("i")

    def name(self, shape: str | None = None) -> str:
        """A resource name as people make them: hyphenated, snake_case, with a number, CamelCase."""
        shape = shape or self.pick(["pms", "pms", "ms", "msn", "p_m_s", "Camel", "pmsn"])
        p, m, s = self.pick(_PREFIX), self.pick(_MIDDLE), self.pick(_SUFFIX)
        if shape == "pms":
            return f"{p}-{m}-{s}"
        if shape == "ms":
            return f"{m}-{s}"
        if shape == "msn":
            return f"{m}-{s}-{self.r.randint(1, 99)}"
        if shape == "pmsn":
            return f"{p}-{m}-{s}-{self.r.randint(2019, 2026)}"
        if shape == "p_m_s":
            return f"{p}_{m}_{s}"
        return f"{p.capitalize()}{m.capitalize()}{self.pick(['Table', 'Queue', 'Stack', 'Service'])}"

    def bucket(self) -> str:
        return self.name(self.pick(["pms", "pmsn", "msn", "ms"]))

    def akid(self) -> str:
        return "AKIA" + "".join(self.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))

    def secret(self) -> str:
        return "".join(self.pick(_B64) for _ in range(40))

    def org(self) -> str:
        return "o-" + "".join(self.pick("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))

    def alnum(self, n: int, chars: str = "abcdefghijklmnopqrstuvwxyz0123456789") -> str:
        return "".join(self.pick(chars) for _ in range(n))

    def person(self) -> str:
        return self.pick(_PEOPLE)


Template = Callable[[Gen], tuple[str, list[str], list[str]]]


def _escaped(fn: Template) -> Template:
    """A template whose digits the JSON body writes as ``\\u00XX`` escapes (valid JSON, seen from some clients)."""
    fn.escape_digits = True
    return fn


# --- account labels ---------------------------------------------------------------------------------
ACCOUNT_LABELS: list[Template] = [
    lambda g: (lambda a: (f"The logs go to AWS account #{a} now.", [a], []))(g.account()),
    lambda g: (lambda a, b: (f"It works in the prod account ({a}) but not in staging account ({b}).", [a, b], []))(
        g.account(), g.account()),
    lambda g: (lambda a: (f"**Account:** {a}\n**Region:** us-east-1", [a], ["us-east-1"]))(g.account()),
    lambda g: (lambda a: (f"Deploy to Account ID `{a}` first.", [a], []))(g.account()),
    lambda g: (lambda a: (f"Account Number: {a}\nSupport plan: Business", [a], ["Business"]))(g.account()),
    lambda g: (lambda a: (f"billing acct no. {a} (consolidated)", [a], []))(g.account()),
    lambda g: (lambda a, b, c: (f"We run three accounts {a}, {b} and {c} under one org.", [a, b, c], []))(
        g.account(), g.account(), g.account()),
    lambda g: (lambda a, b: ('{"Effect": "Allow", "Principal": {"AWS": ["' + a + '", "' + b + '"]}, '
                             '"Action": "sts:AssumeRole"}', [a, b], ["sts:AssumeRole"]))(g.account(), g.account()),
    lambda g: (lambda a, sg: ('"UserIdGroupPairs": [{"GroupId": "' + sg + '", "UserId": "' + a + '"}]',
                              [a, sg], []))(g.account(), g.hexid("sg")),
    lambda g: (lambda o: (f"Our organization {o} has SCPs attached.", [o], []))(g.org()),
    lambda g: (lambda o, a: ('{"Organization": {"Id": "' + o + '", "MasterAccountId": "' + a + '"}}', [o, a], []))(
        g.org(), g.account()),
    lambda g: (lambda a: (f"Principal: {a}\nAction: s3:GetObject", [a], ["s3:GetObject"]))(g.account()),
]

# --- secret keys under any credential label -------------------------------------------------------------
SECRET_KEYS: list[Template] = [
    lambda g: (lambda k, s: (f'provider "aws" {{\n  region     = "us-west-2"\n  access_key = "{k}"\n'
                             f'  secret_key = "{s}"\n}}', [k, s], ["us-west-2"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"[default]\naccess_key = {k}\nsecret_key = {s}\nhost_base = s3.amazonaws.com\n",
                             [k, s], ["s3.amazonaws.com"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: ("<property>\n  <name>fs.s3a.access.key</name>\n  <value>" + k + "</value>\n</property>\n"
                             "<property>\n  <name>fs.s3a.secret.key</name>\n  <value>" + s + "</value>\n"
                             "</property>", [k, s], ["fs.s3a.secret.key"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"spark.hadoop.fs.s3a.access.key={k}\nspark.hadoop.fs.s3a.secret.key={s}", [k, s], []))(
        g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"aws.accessKeyId={k}\naws.secretKey={s}\n", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s: ('{"accessKey": "' + k + '", "secretKey": "' + s + '", "region": "eu-west-1"}',
                             [k, s], ["eu-west-1"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f'AWSCredentials creds = new BasicAWSCredentials("{k}", "{s}");', [k, s], []))(
        g.akid(), g.secret()),
    lambda g: (lambda k, s: (f'creds := credentials.NewStaticCredentials("{k}", "{s}", "")', [k, s], []))(
        g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"const creds = new AWS.Credentials('{k}', '{s}');", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s, a: ("User name,Password,Access key ID,Secret access key,Console login link\n"
                                f"deploy-bot,,{k},{s},https://{a}.signin.aws.amazon.com/console\n",
                                [k, s, a], []))(g.akid(), g.secret(), g.account()),
    lambda g: (lambda k, s: (f"Access key ID,Secret access key\n{k},{s}\n", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s, r: ("$ vault read aws/creds/" + r + "\nKey                Value\n---                -----\n"
                                "lease_id           aws/creds/" + r + "/" + g.alnum(24) + "\nlease_duration     768h\n"
                                "lease_renewable    true\naccess_key         " + k + "\nsecret_key         " + s +
                                "\nsecurity_token     <nil>", [k, s], ["768h"]))(g.akid(), g.secret(), g.name("ms")),
    lambda g: (lambda k, s: (f"AWS_ACCESS_KEY={k}\nAWS_SECRET_KEY={s}", [k, s], []))(g.akid(), g.secret()),
]

# --- prose and tables -----------------------------------------------------------------------------------
PROSE_TABLES: list[Template] = [
    lambda g: (lambda a, b, c: (f"RDS instances: {a}, {b}, {c}", [a, b, c], []))(g.name(), g.name(), g.name()),
    lambda g: (lambda a, b: (f"S3 buckets - {a}, {b}", [a, b], []))(g.bucket(), g.bucket()),
    lambda g: (lambda a, b: (f"I think the Lambda functions {a} and {b} time out.", [a, b], []))(g.name(), g.name()),
    lambda g: (lambda a: (f"The ECS cluster {a} has no capacity provider.", [a], []))(g.name()),
    lambda g: (lambda a: (f"Messages pile up in SQS queue {a} since Monday.", [a], ["Monday"]))(g.name()),
    lambda g: (lambda a, b: (f"| Bucket | Region | Size |\n|---|---|---|\n| {a} | us-east-1 | 1.2 TB |\n"
                             f"| {b} | eu-west-1 | 300 GB |", [a, b], ["us-east-1", "eu-west-1"]))(g.bucket(), g.bucket()),
    lambda g: (lambda a, b: (f"| Account ID | Name | Email |\n|------------|------|-------|\n| {a} | prod | ops@example.com |\n"
                             f"| {b} | dev | dev@example.com |", [a, b], ["prod"]))(g.account(), g.account()),
    lambda g: (lambda a, b: (f"bucket_name,region,created\n{a},us-east-1,2024-01-02\n{b},eu-west-1,2023-11-30\n",
                             [a, b], ["2024-01-02"]))(g.bucket(), g.bucket()),
    lambda g: (lambda a, b: (f"Inventory:\n- RDS: {a}\n- S3: {b}\n- Region: us-east-2", [a, b], ["us-east-2"]))(
        g.name(), g.bucket()),
    lambda g: (lambda a: (f"Error: creating S3 Bucket ({a}): BucketAlreadyExists", [a], ["BucketAlreadyExists"]))(
        g.bucket()),
    lambda g: (lambda a: (f"An error occurred (DBInstanceAlreadyExists) when calling the CreateDBInstance "
                          f"operation: DBInstance {a} already exists", [a], ["CreateDBInstance"]))(g.name()),
    lambda g: (lambda a: ("<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
                          f"</CreateBucketConfiguration>\n<Error><Code>NoSuchBucket</Code><BucketName>{a}"
                          "</BucketName></Error>", [a], ["NoSuchBucket"]))(g.bucket()),
    lambda g: (lambda a, b: (f"the DynamoDB tables {a} and {b} use on-demand capacity", [a, b], ["on-demand"]))(
        g.name(), g.name()),
]

# --- CLI --output table / text ------------------------------------------------------------------------
def _cli_table(rows: list[tuple[str, str]], title: str) -> str:
    kw = max(len(k) for k, _ in rows) + 4
    vw = max(len(v) for _, v in rows) + 18
    width = kw + vw + 3
    line = "+" + "-" * kw + "+" + "-" * vw + "+"
    out = ["-" * width, "|" + title.center(width - 2) + "|", line]
    out += ["|  " + k.ljust(kw - 2) + "|  " + v.ljust(vw - 2) + "|" for k, v in rows]
    out.append(line)
    return "\n".join(out)


CLI_OUTPUT: list[Template] = [
    lambda g: (lambda a, u, p: (_cli_table([("Account", a), ("Arn", f"arn:aws:iam::{a}:user/{u}"), ("UserId", p)],
                                           "GetCallerIdentity"), [a, u, p], ["GetCallerIdentity"]))(
        g.account(), g.name("ms"), "AIDA" + g.alnum(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
    lambda g: (lambda d, e: (_cli_table([("DBInstanceIdentifier", d), ("DBInstanceStatus", "available"),
                                         ("Endpoint", f"{d}.{e}.us-east-1.rds.amazonaws.com")], "DescribeDBInstances"),
                             [d, e], ["available"]))(g.name("pms"), g.alnum(12)),
    lambda g: (lambda b1, b2: ("-----------------------------------------------------------\n"
                               "|                       ListBuckets                       |\n"
                               "+---------------------------------------------------------+\n"
                               "||                        Buckets                        ||\n"
                               "|+----------------------------+--------------------------+|\n"
                               "||        CreationDate        |          Name            ||\n"
                               "|+----------------------------+--------------------------+|\n"
                               f"||  2024-02-11T09:14:03+00:00 |  {b1.ljust(24)}||\n"
                               f"||  2023-07-30T17:45:51+00:00 |  {b2.ljust(24)}||\n"
                               "|+----------------------------+--------------------------+|",
                               [b1, b2], ["2024-02-11T09:14:03+00:00"]))(g.bucket(), g.bucket()),
    lambda g: (lambda a, u: (f"{a}\tarn:aws:iam::{a}:user/{u}\tAIDA{g.alnum(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}",
                             [a, u], []))(g.account(), g.name("ms")),
    lambda g: (lambda b1, b2: (f"BUCKETS\t2024-02-11T09:14:03+00:00\t{b1}\nBUCKETS\t2023-07-30T17:45:51+00:00\t{b2}\n"
                               f"OWNER\tops\t{g.alnum(64, '0123456789abcdef')}", [b1, b2], ["2024-02-11T09:14:03+00:00"]))(
        g.bucket(), g.bucket()),
    lambda g: (lambda a: (f"Account                  {a}\nDefault region           us-west-2", [a], ["us-west-2"]))(
        g.account()),
    lambda g: (lambda a, b: ("$ aws lambda list-functions --query 'Functions[].FunctionName' --output text\n"
                             f"{a}\t{b}", [a, b], ["Functions[].FunctionName"]))(g.name(), g.name()),
]

# --- console URLs ---------------------------------------------------------------------------------------
CONSOLE_URLS: list[Template] = [
    lambda g: (lambda b: (f"https://s3.console.aws.amazon.com/s3/buckets/{b}?region=us-east-1&tab=objects",
                          [b], ["us-east-1"]))(g.bucket()),
    lambda g: (lambda d, r: (f"https://{r}.console.aws.amazon.com/rds/home?region={r}#database:id={d};is-cluster=false",
                             [d], [r]))(g.name("pms"), g.region()),
    lambda g: (lambda f_, r: (f"https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{f_}?tab=code",
                              [f_], [r]))(g.name(), g.region()),
    lambda g: (lambda n: (f"https://us-east-1.console.aws.amazon.com/iamv2/home#/roles/details/{n}?section=permissions",
                          [n], []))(g.name("pms")),
    lambda g: (lambda f_, r: (f"https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups/"
                              f"log-group/$252Faws$252Flambda$252F{f_}", [f_], [r]))(g.name(), g.region()),
    lambda g: (lambda a: (f"Sign in at https://{a}.signin.aws.amazon.com/console with your IAM user.", [a], []))(
        g.account()),
    lambda g: (lambda t, r: (f"https://{r}.console.aws.amazon.com/dynamodbv2/home?region={r}#table?name={t}&tab=overview",
                             [t], [r]))(g.name(), g.region()),
    lambda g: (lambda c, s: (f"https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/{c}/services/{s}/health",
                             [c, s], []))(g.name("pms"), g.name("pms")),
]

# --- AWS hosts outside amazonaws.com ------------------------------------------------------------------
AWS_HOSTS: list[Template] = [
    lambda g: (lambda e, r: (f"curl -I http://{e}.eba-{g.alnum(8)}.{r}.elasticbeanstalk.com/health", [e], [r]))(
        g.name("ms"), g.region()),
    lambda g: (lambda e: (f"CNAME {e}.us-east-1.elasticbeanstalk.com", [e], []))(g.name("pms")),
    lambda g: (lambda s, r: (f"https://{s}.{r}.awsapprunner.com/api/v1", [s], [r]))(g.alnum(10), g.region()),
    lambda g: (lambda d: (f"https://main.{d}.amplifyapp.com/login", [d], []))("d" + g.alnum(13)),
    lambda g: (lambda a: (f"dig {a}.awsglobalaccelerator.com", [a], []))(g.alnum(17)),
    lambda g: (lambda d: (f"Origin: https://{d}.cloudfront.net/assets/app.js", [d], ["assets/app.js"]))(
        "d" + g.alnum(13)),
]

# --- boundaries -----------------------------------------------------------------------------------------
def _u_escape(s: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in s)


BOUNDARIES: list[Template] = [
    lambda g: (lambda i: (f"The culprit is _{i}_ (see above).", [i], []))(g.iid()),
    lambda g: (lambda i: (f"host web-{i} is unhealthy", [i], []))(g.iid()),
    lambda g: (lambda i: (f"Instance {i} was stopped.", [i], []))("i-" + g.iid()[2:].upper()),
    lambda g: (lambda v: (f"attached volume {v} to it", [v], []))("vol-" + g.hexid("vol")[4:].upper()),
    _escaped(lambda g: (lambda a: (f"Account ID: {a}", [a], []))(g.account())),
    lambda g: (lambda i, j: ('{"InstanceIds": "' + i + "\\n" + j + '"}', [i, j], []))(g.iid(), g.iid()),
    lambda g: (lambda i, j, k: ('{"out": "' + i + "\\n" + j + "\\t" + k + '"}', [i, j, k], []))(
        g.iid(), g.hexid("subnet"), g.hexid("vpc")),
    lambda g: (lambda a, p: (f"arn:aws:iam::{a}:user/{p} failed MFA; username: {p}", [a, p], []))(
        g.account(), g.person()),
    lambda g: (lambda i: (f"**{i}**: stopped", [i], []))(g.iid()),
]

# --- CJK labels -----------------------------------------------------------------------------------------
CJK: list[Template] = [
    lambda g: (lambda a: (f"운영 계정({a})에서만 오류가 납니다.", [a], []))(g.account()),
    lambda g: (lambda a: (f"本番アカウント {a} でデプロイが失敗します。", [a], []))(g.account()),
    lambda g: (lambda a: (f"账户ID：{a}，区域：us-east-1", [a], ["us-east-1"]))(g.account()),
    lambda g: (lambda b: (f"S3 버킷 {b}에 접근이 거부됩니다.", [b], []))(g.bucket()),
    lambda g: (lambda a: (f"AWSアカウントID: {a}", [a], []))(g.account()),
    lambda g: (lambda a: (f"帳號 {a} 的帳單", [a], []))(g.account()),
    lambda g: (lambda b: (f"S3バケット {b} が見つかりません", [b], []))(g.bucket()),
    lambda g: (lambda f_: (f"Lambda 関数 {f_} がタイムアウトしました", [f_], []))(g.name("pms")),
    lambda g: (lambda d: (f"RDS 인스턴스 {d} 가 중지되었습니다", [d], []))(g.name("msn")),
    lambda g: (lambda b, q: (f"存储桶 {b} 的事件发送到 SQS 队列 {q}", [b, q], []))(g.bucket(), g.name("pms")),
]

# --- negatives: must come through unchanged (must_keep) -------------------------------------------------
NEGATIVES: list[Template] = [
    lambda g: (lambda i: ('{"InstanceId": "' + i + '", "State": {"Code": 16, "Name": "running"}}', [i],
                          ['"Name": "running"']))(g.iid()),
    lambda g: (lambda sg: ('{"GroupId": "' + sg + '", "GroupName": "default", "Description": "default VPC security group"}',
                           [sg], ['"GroupName": "default"']))(g.hexid("sg")),
    lambda g: ('{"Filters": [{"Name": "instance-state-name", "Values": ["running", "stopped"]}]}', [],
               ['"Name": "instance-state-name"']),
    lambda g: ('aws ec2 describe-instances --filters "Name=tag:Environment,Values=prod" "Name=instance-type,Values=t3.micro"',
               [], ["Name=tag:Environment"]),
    lambda g: (lambda c, h: (f"redis-cli -h master.{c}.{h}.use1.cache.amazonaws.com -p 6379", [c, h],
                             ["master.", ".use1.cache.amazonaws.com"]))(g.name("ms"), g.alnum(6)),
    lambda g: (lambda c, h: (f"reader: replica.{c}.{h}.use1.cache.amazonaws.com", [c, h], ["replica."]))(
        g.name("ms"), g.alnum(6)),
    lambda g: (lambda f_: (f"mount -t nfs4 {f_}.efs.us-east-1.amazonaws.com:/ /mnt/efs", [f_], [".efs.us-east-1"]))(
        g.hexid("fs", 8)),
    lambda g: (lambda a, s: (f"arn:aws:kinesis:us-east-1:{a}:stream/{s}", [a, s], [":stream/"]))(g.account(), g.name("pms")),
    lambda g: (lambda a, t: (f"arn:aws:dynamodb:eu-west-1:{a}:table/{t}/stream/2024-05-01T10:22:33.123",
                             [a, t], ["/stream/2024-05-01T10:22:33.123"]))(g.account(), g.name("Camel")),
    lambda g: ("Upgraded the JDBC driver from 2.3.9.4 to 2.4.0.1 last night.", [], ["2.3.9.4", "2.4.0.1"]),
    lambda g: ("<dependency><version>2.4.0.1</version></dependency>", [], ["2.4.0.1"]),
    lambda g: ("IMDS over IPv6: curl http://[fd00:ec2::254]/latest/meta-data/", [], ["fd00:ec2::254"]),
    lambda g: ("commit 3f9a2c1e8b7d6f5a4c3b2a1908f7e6d5c4b3a291\nrequest id 1b4e28ba-2fa1-11d2-883f-0016d3cca427 "
               "at 2024-06-01T12:30:45Z, python 3.12.1", [], ["3f9a2c1e8b7d6f5a4c3b2a1908f7e6d5c4b3a291",
                                                              "1b4e28ba-2fa1-11d2-883f-0016d3cca427"]),
    lambda g: ("Make sure the account has MFA enabled and the S3 bucket policy denies HTTP.", [],
               ["account has MFA", "bucket policy"]),
    lambda g: ("Order 481516234200 shipped; tracking number 730019283746.", [], ["481516234200", "730019283746"]),
    lambda g: ("The Lambda function to handle retries lives in the ECS cluster autoscaling docs.", [],
               ["function to handle", "cluster autoscaling"]),
    lambda g: ("| Bucket | Purpose |\n|---|---|\n| (none yet) | - |", [], ["(none yet)"]),
    lambda g: ("def handler(event, context):\n    table = os.environ['TABLE_NAME']\n    return {'statusCode': 200}",
               [], ["TABLE_NAME", "statusCode"]),
    # lower-case "name" / "id" whose sibling keys AWS mirrors or shares (vocab ResourceObjects)
    lambda g: ('{"name": "my-app", "version": "1.0.0", "devDependencies": {"jest": "^29"}, "peerDependencies": {}}',
               [], ['"name": "my-app"']),
    lambda g: ('{"containers": [{"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent", '
               '"ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}], '
               '"volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}]}]}',
               [], ['"name": "web"', '"name": "http"', '"name": "data"']),
    lambda g: ('{"tools": [{"name": "list_buckets", "title": "List", "description": "d", '
               '"inputSchema": {"type": "object"}, "outputSchema": {"type": "object"}}]}', [], ['"name": "list_buckets"']),
    lambda g: ('{"type": "tool_use", "id": "toolu_01XYZ", "name": "lightsail_get", '
               '"input": {"supportCode": "x", "isStaticIp": false}}', [], ['"id": "toolu_01XYZ"', '"name": "lightsail_get"']),
    # PascalCase application records (DisplayName, UserId, OrderId) outside an object of AWS's keys
    lambda g: ('{"UserId": "u_8f3k2", "DisplayName": "Jane Doe", "Email": "jane@example.com", "IsActive": true, '
               '"LastLoginAt": "2024-05-01T10:00:00Z"}', [], ['"UserId": "u_8f3k2"', '"DisplayName": "Jane Doe"']),
    lambda g: ('{"OrderId": "A-1001", "CustomerId": "C-77", "InvoiceId": "INV-5", "TotalAmount": 12.5, '
               '"OrderStatus": "Shipped"}', [], ['"OrderId": "A-1001"', '"CustomerId": "C-77"']),
    lambda g: ('{"parameters": [{"name": "petId", "in": "path", "required": true, "allowEmptyValue": false, '
               '"allowReserved": false, "schema": {"type": "string"}}], "operationId": "showPetById"}',
               [], ['"name": "petId"']),
]

# --- variants-1: other phrasings, written after the first detectors; measured (76 %), then fixed --------
VARIANTS: list[Template] = [
    lambda g: (lambda a: (f"AWS Account: {a}", [a], []))(g.account()),
    lambda g: (lambda a: (f"the target account is {a}", [a], []))(g.account()),
    lambda g: (lambda a: (f"the {a} account is closed", [a], []))(g.account()),
    lambda g: (lambda a, b: (f"accounts:\n  - {a}\n  - {b}\n", [a, b], []))(g.account(), g.account()),
    lambda g: (lambda a, b: ('{"AccountIds": ["' + a + '", "' + b + '"]}', [a, b], []))(g.account(), g.account()),
    lambda g: (lambda k, s: (f"Credentials:\n  AccessKeyId: {k}\n  SecretAccessKey: {s}\n", [k, s], []))(
        g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"AWS_SECRET_ACCESS_KEY: {s}\nAWS_ACCESS_KEY_ID: {k}", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"StaticCredentialsProvider.create(AwsBasicCredentials.create(\"{k}\", \"{s}\"))", [k, s], []))(
        g.akid(), g.secret()),
    lambda g: (lambda b: (f"Can you check the S3 bucket named {b}?", [b], []))(g.bucket()),
    lambda g: (lambda c: (f"Our RDS cluster {c} failed over at 03:12.", [c], ["03:12"]))(g.name("pms")),
    lambda g: (lambda t: (f"Publishing to SNS topic {t} returns AuthorizationError", [t], ["AuthorizationError"]))(g.name()),
    lambda g: (lambda j: (f"Glue job {j} failed with OOM", [j], ["OOM"]))(g.name("pms")),
    lambda g: (lambda a, b: (f"buckets {a} and {b} both have versioning", [a, b], []))(g.bucket(), g.bucket()),
    lambda g: (lambda s_: (f"CloudFormation stack {s_} is in UPDATE_ROLLBACK_COMPLETE", [s_], ["UPDATE_ROLLBACK_COMPLETE"]))(
        g.name("pms")),
    lambda g: (lambda b: (f"https://s3.console.aws.amazon.com/s3/object/{b}?region=eu-west-1&prefix=exports/2024/", [b],
                          ["exports/2024/"]))(g.bucket()),
    lambda g: (lambda a, q: (f"https://us-east-1.console.aws.amazon.com/sqs/v2/home?region=us-east-1#/queues/"
                             f"https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F{a}%2F{q}", [a, q], []))(g.account(), g.name("pms")),
    lambda g: (lambda a: (f"프로덕션 계정 ID: {a}", [a], []))(g.account()),
    lambda g: (lambda a: (f"アカウント番号：{a}", [a], []))(g.account()),
    lambda g: (lambda b: (f"S3桶 {b} 无法访问", [b], []))(g.bucket()),
    lambda g: (lambda i: (f"`{i}`, `{g.iid()}`", [i], []))(g.iid()),
    lambda g: (lambda r: (f"| Role | Purpose |\n|---|---|\n| {r} | CI deploys |", [r], ["CI deploys"]))(g.name("pms")),
    lambda g: (lambda f_: (f"Lambda: {f_}\nRuntime: nodejs20.x", [f_], ["nodejs20.x"]))(g.name("pms")),
]

# --- variants-2: written last, after every fix; reported as they came out (84 %). Three miss classes it
# showed (#8 AWS_SECRET= / AWS_KEY=, #13 "| name | S3 bucket |", #17 "버킷 이름:") were then fixed as
# classes (branch s5-recall); the other templates were never tuned to. ------------------------------------
VARIANTS_2: list[Template] = [
    lambda g: (lambda a: (f"Can you check why acct {a} got billed twice?", [a], []))(g.account()),
    lambda g: (lambda a, b: (f"Trusted accounts: {a}; {b}", [a, b], []))(g.account(), g.account()),
    lambda g: (lambda a: (f"aws_account_id: \"{a}\"", [a], []))(g.account()),
    lambda g: (lambda a: (f"- account_id: {a}\n  alias: prod", [a], ["alias: prod"]))(g.account()),
    lambda g: (lambda a: (f"Assume role into {a} fails with AccessDenied", [a], ["AccessDenied"]))(g.account()),
    lambda g: (lambda k, s: (f"[profile ci]\naws_access_key_id={k}\naws_secret_access_key={s}", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f'{{"AccessKey": {{"AccessKeyId": "{k}", "SecretAccessKey": "{s}", "Status": "Active"}}}}',
                             [k, s], ["Active"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"s3 = boto3.client('s3', '{k}', '{s}')", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"AWS_SECRET={s}\nAWS_KEY={k}", [k, s], []))(g.akid(), g.secret()),
    lambda g: (lambda a, b: (f"Both Lambda functions ({a}, {b}) share a role.", [a, b], []))(g.name("pms"), g.name("pms")),
    lambda g: (lambda q: (f"The SQS queue `{q}` has 40k messages.", [q], ["40k"]))(g.name("pms")),
    lambda g: (lambda t: (f"DynamoDB table: {t}", [t], []))(g.name("Camel")),
    lambda g: (lambda c: (f"kubectl config use-context arn:aws:eks:us-west-2:{g.account()}:cluster/{c}", [c], ["us-west-2"]))(
        g.name("pms")),
    lambda g: (lambda b: (f"| Name | Type |\n|---|---|\n| {b} | S3 bucket |", [b], ["S3 bucket"]))(g.bucket()),
    lambda g: (lambda f_: (f"https://console.aws.amazon.com/lambda/home#/functions/{f_}", [f_], []))(g.name()),
    lambda g: (lambda d: (f"https://{d}.execute-api.eu-west-1.amazonaws.com/prod/items", [d], ["eu-west-1"]))(g.alnum(10)),
    lambda g: (lambda a: (f"本番環境のAWSアカウント（{a}）", [a], []))(g.account()),
    lambda g: (lambda b: (f"버킷 이름: {b}", [b], []))(g.bucket()),
    lambda g: (lambda i: (f"instance:{i}", [i], []))(g.iid()),
    lambda g: ("Our retry policy is at-least-once; the S3 bucket policy denies HTTP; see RFC 2119.", [],
               ["at-least-once", "bucket policy"]),
    lambda g: ("| Role | Owner |\n|---|---|\n| Engineer | Platform |", [], ["Engineer", "Platform"]),
    lambda g: ("Lambda: 128 MB, 3 s timeout; EKS: v1.29; RDS: db.r6g.large", [], ["128 MB", "v1.29", "db.r6g.large"]),
]

# --- labels in any spelling: env files, k8s manifests, Lambda configs, variables -----------------------
LABEL_SPELLINGS: list[Template] = [
    lambda g: (lambda b: (f"AWS_S3_BUCKET={b}\nAWS_REGION=us-east-1", [b], ["us-east-1"]))(g.bucket()),
    lambda g: (lambda b: (f"NEXT_PUBLIC_S3_BUCKET={b}\nNEXT_PUBLIC_API_URL=/api", [b], ["/api"]))(g.bucket()),
    lambda g: (lambda c: (f'eks_cluster_name = "{c}"\nnode_count       = 3', [c], []))(g.name("pms")),
    lambda g: (lambda b: (f"storage:\n  s3Bucket: {b}\n  region: eu-west-1", [b], ["eu-west-1"]))(g.bucket()),
    lambda g: (lambda b: (f"        env:\n        - name: S3_BUCKET\n          value: {b}\n"
                          "        - name: LOG_LEVEL\n          value: debug", [b], ["S3_BUCKET", "debug"]))(g.bucket()),
    lambda g: (lambda t, q: ('"Environment": {"Variables": {"TABLE_NAME": "' + t + '", "QUEUE_NAME": "' + q +
                             '", "STAGE": "prod"}}', [t, q], ['"STAGE": "prod"']))(g.name(), g.name("pms")),
    lambda g: (lambda f_: (f"export LAMBDA_FUNCTION_NAME={f_}\nexport TIMEOUT=30", [f_], []))(g.name("pms")),
    lambda g: (lambda d: (f"spring.datasource.db-instance-identifier={d}", [d], []))(g.name("pms")),
    lambda g: (lambda b, r: (f"const uploadBucketName = '{b}';\nconst awsRegion = '{r}';", [b], [r]))(
        g.bucket(), g.region()),
    lambda g: (lambda s_: (f"STACK_NAME: {s_}\nTEMPLATE: template.yaml", [s_], ["template.yaml"]))(g.name("pms")),
]

# --- SDK code: JS v3, Go, Java, Rust, boto3 ---------------------------------------------------------------
SDK_CODE: list[Template] = [
    lambda g: (lambda b: (f'await s3.send(new PutObjectCommand({{ Bucket: "{b}", Key, Body: data }}));', [b], []))(
        g.bucket()),
    lambda g: (lambda t: (f"const out = await ddb.send(new GetItemCommand({{ TableName: '{t}', Key: {{ pk }} }}));",
                          [t], []))(g.name()),
    lambda g: (lambda b: (f'_, err := client.GetObject(ctx, &s3.GetObjectInput{{\n\tBucket: aws.String("{b}"),\n'
                          '\tKey:    aws.String(key),\n})', [b], []))(g.bucket()),
    lambda g: (lambda b: (f'GetObjectRequest req = GetObjectRequest.builder().bucket("{b}").key(key).build();',
                          [b], []))(g.bucket()),
    lambda g: (lambda t: (f'let resp = client.get_item().table_name("{t}").key("pk", pk).send().await?;', [t], []))(
        g.name()),
    lambda g: (lambda b: (f's3.upload_file("/tmp/report.csv", "{b}", "reports/2024/report.csv")', [b],
                          ["reports/2024/report.csv"]))(g.bucket()),
    lambda g: (lambda b: (f"s3.download_file('{b}', 'models/latest.bin', '/tmp/model.bin')", [b],
                          ["models/latest.bin"]))(g.bucket()),
    lambda g: (lambda t: (f"table = boto3.resource('dynamodb').Table('{t}')\nitem = table.get_item(Key=key)", [t], []))(
        g.name()),
    lambda g: (lambda b: (f'bucket = boto3.resource("s3").Bucket("{b}")\nbucket.upload_file("/tmp/a.txt", "a.txt")',
                          [b], ["a.txt"]))(g.bucket()),
    lambda g: (lambda q: (f'resp = sqs.get_queue_url(QueueName="{q}")', [q], []))(g.name("pms")),
    lambda g: (lambda f_: (f"lambda_client.invoke(FunctionName='{f_}', Payload=json.dumps(event))", [f_], []))(
        g.name()),
    lambda g: ("const { Bucket, Key } = event.Records[0].s3;\nconst table = process.env.TABLE_NAME;", [],
               ["event.Records[0].s3", "process.env.TABLE_NAME"]),
]

# --- IaC: Terraform HCL and plans, CloudFormation / SAM ---------------------------------------------------
IAC: list[Template] = [
    lambda g: (lambda t: (f'resource "aws_dynamodb_table" "orders" {{\n  name         = "{t}"\n'
                          '  billing_mode = "PAY_PER_REQUEST"\n  hash_key     = "pk"\n\n  attribute {\n'
                          '    name = "pk"\n    type = "S"\n  }\n}', [t], ["PAY_PER_REQUEST", '"pk"']))(g.name()),
    lambda g: (lambda q: (f'resource "aws_sqs_queue" "jobs" {{\n  name                      = "{q}"\n'
                          '  message_retention_seconds = 86400\n}', [q], ["86400"]))(g.name("pms")),
    lambda g: (lambda c: (f'resource "aws_ecs_cluster" "main" {{\n  name = "{c}"\n\n  setting {{\n'
                          '    name  = "containerInsights"\n    value = "enabled"\n  }\n}',
                          [c], ["containerInsights"]))(g.name("pms")),
    lambda g: (lambda b: (f'bucket = "{b}"\nkey    = "state/terraform.tfstate"\nregion = "us-east-1"', [b],
                          ["state/terraform.tfstate"]))(g.bucket()),
    lambda g: (lambda k, p: (f'resource "aws_instance" "web" {{\n  ami                  = "ami-0abcdef1234567890"\n'
                             f'  instance_type        = "t3.micro"\n  key_name             = "{k}"\n'
                             f'  iam_instance_profile = "{p}"\n}}', [k, p], ["t3.micro"]))(g.name("ms"), g.name("pms")),
    lambda g: (lambda t: (f'  # aws_dynamodb_table.events will be created\n  + resource "aws_dynamodb_table" "events" {{\n'
                          '      + arn          = (known after apply)\n      + billing_mode = "PAY_PER_REQUEST"\n'
                          f'      + name         = "{t}"\n    }}', [t], ["(known after apply)"]))(g.name()),
    lambda g: (lambda a, b: (f'  # aws_s3_bucket.data must be replaced\n-/+ resource "aws_s3_bucket" "data" {{\n'
                             f'      ~ bucket = "{a}" -> "{b}" # forces replacement\n'
                             '      ~ id     = "x" -> (known after apply)\n    }', [a, b], ["(known after apply)"]))(
        g.bucket(), g.bucket()),
    lambda g: ('data "aws_ami" "ubuntu" {\n  most_recent = true\n  owners      = ["099720109477"]\n  filter {\n'
               '    name   = "name"\n    values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]\n  }\n}',
               [], ['"name"', "ubuntu-jammy-22.04"]),
    lambda g: (lambda b: (f"Resources:\n  DataBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n"
                          f"      BucketName: {b}\n      VersioningConfiguration:\n        Status: Enabled",
                          [b], ["AWS::S3::Bucket", "Enabled"]))(g.bucket()),
    lambda g: (lambda f_, t: (f"  Handler:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                              f"      FunctionName: {f_}\n      Runtime: python3.12\n      Environment:\n"
                              f"        Variables:\n          TABLE_NAME: {t}", [f_, t], ["python3.12"]))(
        g.name("pms"), g.name()),
]

# --- variants-3: a third held-out list, written apart from the detectors (never read) and measured as it
# came out; one or more templates per context class, named in the comment above each group. -----------------
_HEX = "0123456789abcdef"


def _uuid(g: Gen) -> str:
    return "-".join(g.alnum(n, _HEX) for n in (8, 4, 4, 4, 12))


def _ddb_list_tables(t1: str, t2: str) -> str:
    w = max(len(t1), len(t2)) + 8
    return "\n".join(["-" * (w + 4), "|" + "ListTables".center(w + 2) + "|", "+" + "-" * (w + 2) + "+",
                      "||" + "TableNames".center(w) + "||", "|+" + "-" * w + "+|",
                      "||  " + t1.ljust(w - 2) + "||", "||  " + t2.ljust(w - 2) + "||", "|+" + "-" * w + "+|"])


def _ec2_table(a: str, r: str, i: str, sn: str) -> str:
    def vw(depth: int) -> int:
        return 49 - 2 * depth

    def row(depth: int, k: str, v: str) -> str:
        return "|" * depth + "  " + k.ljust(18) + "|  " + v.ljust(vw(depth)) + "|" * depth

    def sep(depth: int) -> str:
        return "|" * (depth - 1) + "+" + "-" * 20 + "+" + "-" * (vw(depth) + 2) + "+" + "|" * (depth - 1)
    return "\n".join(["-" * 72, "|" + "DescribeInstances".center(70) + "|", "+" + "-" * 70 + "+",
                      "||" + "Reservations".center(68) + "||", sep(2), row(2, "OwnerId", a),
                      row(2, "ReservationId", r), sep(2), "|||" + "Instances".center(66) + "|||", sep(3),
                      row(3, "InstanceId", i), row(3, "InstanceType", "m5.xlarge"),
                      row(3, "PrivateIpAddress", "10.0.12.34"), row(3, "SubnetId", sn), sep(3)])


VARIANTS_3: list[Template] = [
    # labels in unusual spellings: .env, .properties, docker-compose, GitHub Actions, Helm, k8s env
    lambda g: (lambda b, t, r: (f"# .env.production\nS3_BUCKET_NAME_UPLOADS={b}\nDYNAMO_TABLE={t}\nAWS_DEFAULT_REGION={r}\n"
                                "LOG_FORMAT=json", [b, t], [f"AWS_DEFAULT_REGION={r}", "LOG_FORMAT=json"]))(
        g.bucket(), g.name(), g.region()),
    lambda g: (lambda b, q: (f"# application-prod.properties\naws.s3.bucketName={b}\naws.sqs.queue-name={q}\n"
                             "aws.region=eu-central-1\nserver.port=8080", [b, q], ["aws.region=eu-central-1", "server.port=8080"]))(
        g.bucket(), g.name("pms")),
    lambda g: (lambda a, q, t: ("services:\n  worker:\n    image: ghcr.io/example/worker:1.4.2\n    environment:\n"
                                f"      - SQS_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/{a}/{q}\n"
                                f"      - DDB_TABLE={t}\n      - AWS_REGION=us-east-1\n",
                                [a, q, t], ["worker:1.4.2", "AWS_REGION=us-east-1"]))(g.account(), g.name("pms"), g.name()),
    lambda g: (lambda repo, svc, c: ("env:\n  AWS_REGION: us-west-2\n"
                                     f"  ECR_REPOSITORY: {repo}\n  ECS_SERVICE: {svc}\n  ECS_CLUSTER: {c}\n"
                                     "  ECS_TASK_DEFINITION: .aws/task-definition.json\n  CONTAINER_NAME: app",
                                     [repo, svc, c], ["AWS_REGION: us-west-2", ".aws/task-definition.json"]))(
        g.name("ms"), g.name("pms"), g.name("pms")),
    lambda g: (lambda a, role, b, q: ("# values-prod.yaml\nserviceAccount:\n  create: true\n  annotations:\n"
                                      f"    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n"
                                      f"config:\n  s3:\n    bucket: {b}\n  sqs:\n    queueName: {q}\nreplicaCount: 3",
                                      [a, role, b, q], ["replicaCount: 3", "create: true"]))(
        g.account(), g.name("pms"), g.bucket(), g.name("pms")),
    lambda g: (lambda t, k: ("          env:\n            - name: DYNAMODB_TABLE_NAME\n"
                             f'              value: "{t}"\n            - name: KINESIS_STREAM\n              value: "{k}"\n'
                             '            - name: AWS_SDK_LOAD_CONFIG\n              value: "1"',
                             [t, k], ["AWS_SDK_LOAD_CONFIG", 'value: "1"']))(g.name("Camel"), g.name("pms")),
    # SDK code: JS v3, Go, Java v2, Rust, boto3, .NET, PHP, Ruby
    lambda g: (lambda a, q: ("await sqs.send(new SendMessageCommand({\n"
                             f"  QueueUrl: `https://sqs.${{region}}.amazonaws.com/{a}/{q}`,\n"
                             "  MessageBody: JSON.stringify(msg),\n}));", [a, q], ["JSON.stringify(msg)"]))(
        g.account(), g.name("pms")),
    lambda g: (lambda t: ("_, err = svc.PutItem(ctx, &dynamodb.PutItemInput{\n"
                          f'\tTableName: aws.String("{t}"),\n\tItem:      item,\n}})\nif err != nil {{\n\treturn err\n}}',
                          [t], ["dynamodb.PutItemInput"]))(g.name()),
    lambda g: (lambda f_: (f'InvokeRequest req = InvokeRequest.builder()\n        .functionName("{f_}")\n'
                           '        .payload(SdkBytes.fromUtf8String(body))\n        .build();\n'
                           "InvokeResponse res = lambdaClient.invoke(req);", [f_], ["SdkBytes.fromUtf8String(body)"]))(
        g.name("pms")),
    lambda g: (lambda b: (f'client.put_object()\n    .bucket("{b}")\n    .key("exports/daily.parquet")\n'
                          "    .body(ByteStream::from(bytes))\n    .send()\n    .await?;", [b], ["exports/daily.parquet"]))(
        g.bucket()),
    lambda g: (lambda a, topic: (f'sns.publish(\n    TopicArn="arn:aws:sns:us-east-1:{a}:{topic}",\n'
                                 '    Message=json.dumps(payload),\n    Subject="nightly export",\n)',
                                 [a, topic], ['"nightly export"']))(g.account(), g.name("pms")),
    lambda g: (lambda b: ("var response = await s3Client.GetObjectAsync(new GetObjectRequest\n{\n"
                          f'    BucketName = "{b}",\n    Key = "config/appsettings.json"\n}});',
                          [b], ["config/appsettings.json"]))(g.bucket()),
    lambda g: (lambda b: ("$result = $s3->putObject([\n"
                          f"    'Bucket' => '{b}',\n    'Key'    => 'avatars/' . $userId . '.png',\n"
                          "    'ACL'    => 'private',\n]);", [b], ["'ACL'    => 'private'"]))(g.bucket()),
    lambda g: (lambda b: ("s3 = Aws::S3::Resource.new(region: 'eu-west-1')\n"
                          f"obj = s3.bucket('{b}').object('backups/db.sql.gz')\nobj.upload_file('/tmp/db.sql.gz')",
                          [b], ["backups/db.sql.gz", "region: 'eu-west-1'"]))(g.bucket()),
    # IaC: Terraform, plan output, CloudFormation YAML/JSON, CDK TS/Python, Pulumi, Serverless, SAM
    lambda g: (lambda f_, a, role: ('resource "aws_lambda_function" "thumbnailer" {\n'
                                    f'  function_name = "{f_}"\n  role          = "arn:aws:iam::{a}:role/{role}"\n'
                                    '  handler       = "index.handler"\n  runtime       = "nodejs20.x"\n'
                                    '  memory_size   = 512\n}', [f_, a, role], ["index.handler", "nodejs20.x"]))(
        g.name("pms"), g.account(), g.name("pms")),
    lambda g: (lambda i, sn, sg: ("  # aws_instance.bastion will be updated in-place\n"
                                  '  ~ resource "aws_instance" "bastion" {\n'
                                  f'        id                     = "{i}"\n'
                                  '      ~ instance_type          = "t3.small" -> "t3.medium"\n'
                                  f'        subnet_id              = "{sn}"\n'
                                  '      ~ vpc_security_group_ids = [\n'
                                  f'          + "{sg}",\n        ]\n    }}\n\nPlan: 0 to add, 1 to change, 0 to destroy.',
                                  [i, sn, sg], ['"t3.small" -> "t3.medium"', "Plan: 0 to add, 1 to change, 0 to destroy."]))(
        g.iid(), g.hexid("subnet"), g.hexid("sg")),
    lambda g: (lambda q, t: ('{"Resources": {"JobsQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "'
                             + q + '", "VisibilityTimeout": 300}}, "JobsTable": {"Type": "AWS::DynamoDB::Table", '
                             '"Properties": {"TableName": "' + t + '", "BillingMode": "PAY_PER_REQUEST"}}}}',
                             [q, t], ["AWS::SQS::Queue", '"BillingMode": "PAY_PER_REQUEST"']))(g.name("pms"), g.name("Camel")),
    lambda g: (lambda topic, a: ("  AlertsTopic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
                                 f"      TopicName: {topic}\n  AlertsTopicPolicy:\n    Type: AWS::SNS::TopicPolicy\n"
                                 "    Properties:\n      Topics:\n        - !Ref AlertsTopic\n      PolicyDocument:\n"
                                 "        Statement:\n          - Effect: Allow\n            Principal:\n"
                                 f"              AWS: arn:aws:iam::{a}:root\n            Action: sns:Publish\n"
                                 "            Resource: '*'", [topic, a], ["sns:Publish", "AWS::SNS::TopicPolicy"]))(
        g.name("pms"), g.account()),
    lambda g: (lambda b, f_: ("const bucket = new s3.Bucket(this, 'Uploads', {\n"
                              f"  bucketName: '{b}',\n  versioned: true,\n  removalPolicy: cdk.RemovalPolicy.RETAIN,\n}});\n"
                              "const fn = new lambda.Function(this, 'Resizer', {\n"
                              f"  functionName: '{f_}',\n  runtime: lambda.Runtime.NODEJS_20_X,\n"
                              "  handler: 'index.handler',\n});",
                              [b, f_], ["cdk.RemovalPolicy.RETAIN", "lambda.Runtime.NODEJS_20_X"]))(g.bucket(), g.name("pms")),
    lambda g: (lambda t, a: ('table = dynamodb.Table(\n    self, "Sessions",\n'
                             f'    table_name="{t}",\n'
                             '    partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),\n'
                             '    billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,\n)\n'
                             f'env = cdk.Environment(account="{a}", region="ap-southeast-2")',
                             [t, a], ["dynamodb.BillingMode.PAY_PER_REQUEST", 'region="ap-southeast-2"']))(
        g.name("p_m_s"), g.account()),
    lambda g: (lambda q, c: (f'const queue = new aws.sqs.Queue("jobs", {{ name: "{q}", messageRetentionSeconds: 1209600 }});\n'
                             f'const cluster = new aws.ecs.Cluster("main", {{ name: "{c}" }});\n'
                             'export const queueUrl = queue.url;', [q, c], ["1209600", "queue.url"]))(
        g.name("pms"), g.name("pms")),
    lambda g: (lambda svc, b, a, q: (f"service: {svc}\n\nprovider:\n  name: aws\n  runtime: python3.11\n"
                                     f"  region: eu-west-1\n  deploymentBucket:\n    name: {b}\n\nfunctions:\n"
                                     "  ingest:\n    handler: handler.ingest\n    events:\n      - sqs:\n"
                                     f"          arn: arn:aws:sqs:eu-west-1:{a}:{q}\n          batchSize: 10",
                                     [svc, b, a, q], ["runtime: python3.11", "handler.ingest", "batchSize: 10"]))(
        g.name("pms"), g.bucket(), g.account(), g.name("pms")),
    lambda g: (lambda s_, b: ("version = 0.1\n[default.deploy.parameters]\n"
                              f'stack_name = "{s_}"\ns3_bucket = "{b}"\ns3_prefix = "{s_}"\n'
                              'region = "us-east-2"\ncapabilities = "CAPABILITY_IAM"\nconfirm_changeset = true',
                              [s_, b], ['capabilities = "CAPABILITY_IAM"', 'region = "us-east-2"']))(g.name("pms"), g.bucket()),
    # secret access keys under credential labels of other tools
    lambda g: (lambda k, s: (f"[s3-backup]\ntype = s3\nprovider = AWS\naccess_key_id = {k}\nsecret_access_key = {s}\n"
                             "region = eu-central-1\nacl = private", [k, s], ["provider = AWS", "region = eu-central-1"]))(
        g.akid(), g.secret()),
    lambda g: (lambda k, s, b: ("<match app.**>\n  @type s3\n"
                                f"  aws_key_id {k}\n  aws_sec_key {s}\n  s3_bucket {b}\n"
                                "  s3_region ap-northeast-1\n  path logs/\n</match>",
                                [k, s, b], ["@type s3", "s3_region ap-northeast-1"]))(g.akid(), g.secret(), g.bucket()),
    lambda g: (lambda k, s: (f"AIRFLOW_CONN_AWS_DEFAULT=aws://{k}:{quote(s, safe='')}@/?region_name=us-east-1",
                             [k, s], ["region_name=us-east-1"]))(g.akid(), g.secret()),
    lambda g: (lambda k, s: (f"docker run --rm -e AWS_ACCESS_KEY_ID={k} -e AWS_SECRET_ACCESS_KEY={s} "
                             "amazon/aws-cli s3 ls", [k, s], ["amazon/aws-cli s3 ls"]))(g.akid(), g.secret()),
    # account IDs under labels in prose/tables/lists, Principal blocks, org/OU IDs
    lambda g: (lambda a, b: ("| Environment | AWS Account | Owner |\n|---|---|---|\n"
                             f"| Production | {a} | platform-team |\n| Sandbox | {b} | data-eng |",
                             [a, b], ["| Production |", "| Sandbox |"]))(g.account(), g.account()),
    lambda g: (lambda a, b, c: (f"Accounts in scope:\n* Shared services — {a}\n* Log archive — {b}\n* Audit — {c}",
                                [a, b, c], ["Log archive"]))(g.account(), g.account(), g.account()),
    lambda g: (lambda a, ou1, ou2, root: (f"Moved account {a} from {ou1} to {ou2} (root {root}); SCP FullAWSAccess "
                                          "still attached.", [a, ou1, ou2, root], ["FullAWSAccess"]))(
        g.account(), f"ou-{g.alnum(4)}-{g.alnum(8)}", f"ou-{g.alnum(4)}-{g.alnum(8)}", f"r-{g.alnum(4)}"),
    lambda g: (lambda a, o: ('{\n  "Sid": "Enable IAM User Permissions",\n  "Effect": "Allow",\n'
                             f'  "Principal": {{"AWS": "arn:aws:iam::{a}:root"}},\n  "Action": "kms:*",\n  "Resource": "*",\n'
                             f'  "Condition": {{"StringEquals": {{"aws:PrincipalOrgID": "{o}"}}}}\n}}',
                             [a, o], ['"Action": "kms:*"', "aws:PrincipalOrgID"]))(g.account(), g.org()),
    lambda g: (lambda a, b: ("lineItem/UsageAccountId,lineItem/ProductCode,lineItem/UnblendedCost\n"
                             f"{a},AmazonEC2,12.34\n{b},AmazonS3,0.56\n", [a, b], ["AmazonEC2", "lineItem/UnblendedCost"]))(
        g.account(), g.account()),
    # prose and tables: service nouns, markdown, errors, XML, bullets
    lambda g: (lambda c, s_, sm: ("| Service | Resource | Notes |\n|---|---|---|\n"
                                  f"| ElastiCache | {c} | cache.r6g.large |\n| Kinesis | {s_} | 4 shards |\n"
                                  f"| Step Functions | {sm} | STANDARD |",
                                  [c, s_, sm], ["cache.r6g.large", "| STANDARD |"]))(g.name("pms"), g.name("pms"), g.name("Camel")),
    lambda g: (lambda t: ("botocore.errorfactory.ResourceNotFoundException: An error occurred (ResourceNotFoundException) "
                          "when calling the DescribeTable operation: Requested resource not found: "
                          f"Table: {t} not found", [t], ["DescribeTable"]))(g.name()),
    lambda g: (lambda a, role, b: ("An error occurred (AccessDenied) when calling the PutObject operation: User: "
                                   f"arn:aws:sts::{a}:assumed-role/{role}/GitHubActions is not authorized to perform: "
                                   f's3:PutObject on resource: "arn:aws:s3:::{b}/uploads/x.png" because no identity-based '
                                   "policy allows the s3:PutObject action", [a, role, b], ["s3:PutObject"]))(
        g.account(), g.name("pms"), g.bucket()),
    lambda g: (lambda a, q1, q2, u: ("<ListQueuesResponse><ListQueuesResult>"
                                     f"<QueueUrl>https://sqs.us-east-2.amazonaws.com/{a}/{q1}</QueueUrl>"
                                     f"<QueueUrl>https://sqs.us-east-2.amazonaws.com/{a}/{q2}</QueueUrl>"
                                     f"</ListQueuesResult><ResponseMetadata><RequestId>{u}</RequestId>"
                                     "</ResponseMetadata></ListQueuesResponse>", [a, q1, q2], [u]))(
        g.account(), g.name("pms"), g.name("pms"), _uuid(g)),
    lambda g: (lambda d, o, p: (f"Affected:\n• Kinesis Data Firehose delivery stream {d}\n• OpenSearch domain {o}\n"
                                f"• Cognito user pool {p}", [d, o, p], []))(
        g.name("pms"), g.name("ms"), "us-east-1_" + g.alnum(9, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
    # CLI --output table / text
    lambda g: (lambda a, r, i, sn: (_ec2_table(a, r, i, sn), [a, r, i, sn], ["m5.xlarge", "DescribeInstances"]))(
        g.account(), g.hexid("r"), g.iid(), g.hexid("subnet")),
    lambda g: (lambda s1, s2: ("$ aws cloudformation describe-stacks --query 'Stacks[].[StackName,StackStatus]' --output text\n"
                               f"{s1}\tCREATE_COMPLETE\n{s2}\tUPDATE_ROLLBACK_FAILED",
                               [s1, s2], ["CREATE_COMPLETE", "UPDATE_ROLLBACK_FAILED"]))(g.name("pms"), g.name("pms")),
    lambda g: (lambda t1, t2: (_ddb_list_tables(t1, t2), [t1, t2], ["ListTables"]))(g.name("Camel"), g.name("pms")),
    lambda g: (lambda a, c: ("$ aws ecs list-clusters --output text\n"
                             f"CLUSTERARNS\tarn:aws:ecs:us-west-2:{a}:cluster/{c}", [a, c], ["CLUSTERARNS"]))(
        g.account(), g.name("pms")),
    # console URLs, sign-in URLs
    lambda g: (lambda svc, r: (f"https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups/"
                               f"log-group/$252Fecs$252F{svc}/log-events/ecs$252Fweb$252F{g.alnum(32, _HEX)}",
                               [svc], [f"region={r}"]))(g.name("pms"), g.region()),
    lambda g: (lambda a, sm, ex: ("https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/"
                                  f"details/arn:aws:states:us-east-1:{a}:execution:{sm}:{ex}", [a, sm], []))(
        g.account(), g.name("Camel"), _uuid(g)),
    lambda g: (lambda sso, a: (f"Log in via https://{sso}.awsapps.com/start/#/ (break-glass: "
                               f"https://{a}.signin.aws.amazon.com/console)", [sso, a], []))(g.name("ms"), g.account()),
    # AWS hosts
    lambda g: (lambda d, h: (f"jdbc:postgresql://{d}.{h}.eu-central-1.rds.amazonaws.com:5432/appdb?sslmode=require",
                             [d, h], ["sslmode=require", ".eu-central-1.rds.amazonaws.com"]))(g.name("pms"), g.alnum(12)),
    lambda g: (lambda c, h: (f"REDIS_URL=rediss://{c}.{h}.clustercfg.use1.cache.amazonaws.com:6379",
                             [c, h], [".clustercfg.use1.cache.amazonaws.com:6379"]))(g.name("ms"), g.alnum(6)),
    lambda g: (lambda app, api, cf: (f"Frontend: https://main.{app}.amplifyapp.com, API: "
                                     f"https://{api}.execute-api.ap-northeast-1.amazonaws.com/v1, assets: {cf}.cloudfront.net",
                                     [app, api, cf], [".execute-api.ap-northeast-1.amazonaws.com/v1"]))(
        "d" + g.alnum(13), g.alnum(10), "d" + g.alnum(13)),
    lambda g: (lambda u: (f"curl -X POST https://{u}.lambda-url.us-east-1.on.aws/ -d @event.json", [u],
                          [".lambda-url.us-east-1.on.aws/"]))(g.alnum(32)),
    lambda g: (lambda e, r, x: (f"eb status → CNAME: {e}.{r}.elasticbeanstalk.com; App Runner: https://{x}.{r}.awsapprunner.com",
                                [e, x], [f".{r}.awsapprunner.com"]))(g.name("pms"), g.region(), g.alnum(10)),
    # boundaries: markdown emphasis, glued IDs, uppercase hex, escaped digits
    lambda g: (lambda b, i, j: (f"Bucket ***{b}*** is public! Also ~~{i}~~ was replaced by __{j}__.", [b, i, j], []))(
        g.bucket(), g.iid(), g.iid()),
    lambda g: (lambda tgw, v, sn: (f"route via {tgw}->{v}/{sn}(private)", [tgw, v, sn], ["(private)"]))(
        g.hexid("tgw"), g.hexid("vpc"), g.hexid("subnet")),
    lambda g: (lambda e: (f"NETWORK INTERFACE {e} DETACHED", [e], ["DETACHED"]))("ENI-" + g.alnum(17, _HEX).upper()),
    _escaped(lambda g: (lambda a, role: ('"Principal": {"AWS": "arn:aws:iam::' + a + ':role/' + role + '"}',
                                         [a, role], []))(g.account(), g.name("pms"))),
    # CJK labels and service nouns
    lambda g: (lambda t: (f"DynamoDB 테이블 {t}의 쓰기 용량이 부족합니다. 리전은 ap-northeast-2입니다.", [t], ["ap-northeast-2"]))(
        g.name()),
    lambda g: (lambda q, a: (f"SQSキュー「{q}」にメッセージが滞留しています（アカウント：{a}）", [q, a], []))(
        g.name("pms"), g.account()),
    lambda g: (lambda a, b, f_: (f"生产环境账号：{a}\nS3 存储桶名称：{b}\nLambda 函数名：{f_}", [a, b, f_], []))(
        g.account(), g.bucket(), g.name("pms")),
    lambda g: (lambda c, d: (f"| 서비스 | 이름 |\n|---|---|\n| ECS 클러스터 | {c} |\n| RDS 인스턴스 | {d} |", [c, d], []))(
        g.name("pms"), g.name("pms")),
]

# --- variants-4: a fourth held-out list (session 8), written by a helper that never read the engine or its
# packs, from the real tools' output formats: CloudTrail / EventBridge / S3 / SQS / SNS / DynamoDB-stream
# event records, VPC flow / ALB / ELB / S3 access / Lambda / Logs Insights / API Gateway / CloudFront logs,
# ECS task metadata, SDK and IaC errors (boto3, Java v1/v2, Go v2, Terraform, CDK, CloudFormation events,
# EKS, SAM), tool output (sts, configure, terraform state/output/show -json, cdk deploy, eksctl, kubectl,
# ecs describe-tasks, docker login to ECR, logs tail, SSM, Step Functions), prose in eight languages, code
# (Python, TypeScript, Go, Java, Terraform, CloudFormation, Ansible, GitHub Actions, Dockerfile, shell,
# Kubernetes), and negatives; 73 templates. Measured as it came out (report seed 13, 5 per template): 80.4 %
# recall (text and JSON alike), 63.0 % pass, 98.6 % kept, 27 failing templates; seed 7: 80.5 %. Never tuned to.
# (One label was corrected before this measurement: #6's CloudWatch alarm name, first listed as must-keep,
# is a customer resource name and is now generated and must-mask.) ----------------------------------------
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _asia(g: Gen) -> str:
    return "ASIA" + g.alnum(16, _B32)


def _aroa(g: Gen) -> str:
    return "AROA" + g.alnum(17, _B32)


def _aida(g: Gen) -> str:
    return "AIDA" + g.alnum(17, _B32)


def _ip10(g: Gen) -> str:
    return f"10.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(2, 254)}"


def _node_host(g: Gen, region: str) -> str:
    ip = _ip10(g)
    dom = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{ip.replace('.', '-')}.{dom}"


def _session_token(g: Gen) -> str:
    return "IQoJb3JpZ2luX2Vj" + g.alnum(300, _B64)


def _ct_iam_user(g: Gen):
    a, p, u, k, b = g.account(), _aida(g), g.person().replace(".", "-"), g.akid(), g.bucket()
    text = ('{\n    "eventVersion": "1.08",\n    "userIdentity": {\n        "type": "IAMUser",\n'
            f'        "principalId": "{p}",\n        "arn": "arn:aws:iam::{a}:user/{u}",\n'
            f'        "accountId": "{a}",\n        "accessKeyId": "{k}",\n        "userName": "{u}"\n    }},\n'
            '    "eventTime": "2024-06-01T09:14:27Z",\n    "eventSource": "s3.amazonaws.com",\n'
            '    "eventName": "PutBucketPolicy",\n    "awsRegion": "us-east-1",\n'
            '    "sourceIPAddress": "198.51.100.23",\n    "userAgent": "[aws-cli/2.15.30 Python/3.11.8]",\n'
            f'    "requestParameters": {{\n        "bucketName": "{b}",\n        "Host": "{b}.s3.amazonaws.com",\n'
            '        "policy": ""\n    },\n    "responseElements": null,\n'
            f'    "requestID": "{g.alnum(16, _UPPER_ALNUM)}",\n    "eventID": "{_uuid(g)}",\n'
            '    "readOnly": false,\n    "eventType": "AwsApiCall",\n    "managementEvent": true,\n'
            f'    "recipientAccountId": "{a}",\n    "eventCategory": "Management"\n}}')
    return text, [a, p, u, k, b], ['"eventName": "PutBucketPolicy"', '"eventType": "AwsApiCall"',
                                   '"eventVersion": "1.08"']


def _ct_assumed_role(g: Gen):
    a, ro, role, k, i, sn = g.account(), _aroa(g), g.name("pms"), _asia(g), g.iid(), g.hexid("subnet")
    text = ('{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole",'
            f'"principalId":"{ro}:GitLabRunner","arn":"arn:aws:sts::{a}:assumed-role/{role}/GitLabRunner",'
            f'"accountId":"{a}","accessKeyId":"{k}","sessionContext":{{"sessionIssuer":{{"type":"Role",'
            f'"principalId":"{ro}","arn":"arn:aws:iam::{a}:role/{role}","accountId":"{a}","userName":"{role}"}},'
            '"attributes":{"creationDate":"2024-06-01T08:00:12Z","mfaAuthenticated":"false"}}},'
            '"eventTime":"2024-06-01T08:01:40Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances",'
            '"awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.77","userAgent":"Boto3/1.34.120",'
            f'"requestParameters":{{"instancesSet":{{"items":[{{"minCount":1,"maxCount":1}}]}},"instanceType":"c6i.large",'
            f'"subnetId":"{sn}"}},"responseElements":{{"instancesSet":{{"items":[{{"instanceId":"{i}",'
            f'"instanceState":{{"code":0,"name":"pending"}},"subnetId":"{sn}"}}]}}}},"recipientAccountId":"{a}"}}')
    return text, [a, ro, role, k, i, sn], ['"mfaAuthenticated":"false"', '"eventName":"RunInstances"',
                                           '"instanceType":"c6i.large"']


def _ct_root_login(g: Gen):
    a = g.account()
    text = ('{"eventVersion": "1.08", "userIdentity": {"type": "Root", "principalId": "' + a + '", '
            '"arn": "arn:aws:iam::' + a + ':root", "accountId": "' + a + '"}, "eventTime": "2024-05-30T22:41:05Z", '
            '"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1", '
            '"responseElements": {"ConsoleLogin": "Failure"}, "additionalEventData": {"MFAUsed": "No", '
            '"LoginTo": "https://console.aws.amazon.com/console/home"}, "errorMessage": "Failed authentication", '
            '"eventType": "AwsConsoleSignIn", "recipientAccountId": "' + a + '"}')
    return text, [a], ['"ConsoleLogin": "Failure"', '"eventType": "AwsConsoleSignIn"']


def _eventbridge_ec2(g: Gen):
    a, i, r = g.account(), g.iid(), g.region()
    text = ('{\n  "version": "0",\n  "id": "' + _uuid(g) + '",\n  "detail-type": "EC2 Instance State-change Notification",\n'
            '  "source": "aws.ec2",\n  "account": "' + a + '",\n  "time": "2024-06-01T10:20:30Z",\n  "region": "' + r +
            '",\n  "resources": ["arn:aws:ec2:' + r + ':' + a + ':instance/' + i + '"],\n'
            '  "detail": {"instance-id": "' + i + '", "state": "stopped"}\n}')
    return text, [a, i], ['"detail-type": "EC2 Instance State-change Notification"', '"state": "stopped"',
                          '"source": "aws.ec2"']


def _s3_event(g: Gen):
    b, p, owner = g.bucket(), _aida(g), "A" + g.alnum(13, _UPPER_ALNUM)
    text = ('{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2",'
            '"eventTime":"2024-06-01T11:00:02.531Z","eventName":"ObjectCreated:Put",'
            f'"userIdentity":{{"principalId":"AWS:{p}"}},"requestParameters":{{"sourceIPAddress":"192.0.2.15"}},'
            '"s3":{"s3SchemaVersion":"1.0","configurationId":"on-upload",'
            f'"bucket":{{"name":"{b}","ownerIdentity":{{"principalId":"{owner}"}},"arn":"arn:aws:s3:::{b}"}},'
            '"object":{"key":"incoming/2024/06/01/batch-0042.csv","size":18231,'
            f'"eTag":"{g.alnum(32, _HEX)}","sequencer":"0066{g.alnum(14, "0123456789ABCDEF")}"}}}}}}]}}')
    return text, [b, p, owner], ['"eventName":"ObjectCreated:Put"', '"s3SchemaVersion":"1.0"',
                                 "incoming/2024/06/01/batch-0042.csv"]


def _sqs_lambda_event(g: Gen):
    a, q, r = g.account(), g.name("pms"), g.region()
    text = ('{\n  "Records": [\n    {\n      "messageId": "' + _uuid(g) + '",\n'
            '      "receiptHandle": "AQEB' + g.alnum(60, _B64) + '",\n      "body": "{\\"orderId\\": 1042}",\n'
            '      "attributes": {\n        "ApproximateReceiveCount": "3",\n        "SentTimestamp": "1717236000123",\n'
            '        "SenderId": "' + _aroa(g) + ':worker",\n        "ApproximateFirstReceiveTimestamp": "1717236000456"\n'
            '      },\n      "messageAttributes": {},\n      "md5OfBody": "' + g.alnum(32, _HEX) + '",\n'
            '      "eventSource": "aws:sqs",\n      "eventSourceARN": "arn:aws:sqs:' + r + ':' + a + ':' + q + '",\n'
            '      "awsRegion": "' + r + '"\n    }\n  ]\n}')
    return text, [a, q], ['"eventSource": "aws:sqs"', '"ApproximateReceiveCount": "3"']


def _sns_lambda_event(g: Gen):
    a, t, u, alarm = g.account(), g.name("pms"), _uuid(g), g.name("pms") + "-errors"
    arn = f"arn:aws:sns:us-east-2:{a}:{t}"
    text = ('{"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "' + arn + ':' + u +
            '", "Sns": {"Type": "Notification", "MessageId": "' + _uuid(g) + '", "TopicArn": "' + arn + '", '
            '"Subject": "ALARM: \\"' + alarm + '\\" in US East (Ohio)", "Message": "{\\"AlarmName\\":\\"' + alarm + '\\"}", '
            '"Timestamp": "2024-06-01T12:00:00.000Z", "SignatureVersion": "1", '
            '"UnsubscribeUrl": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=' + arn + ':' + u +
            '"}}]}')
    return text, [a, t, alarm], ['"EventSource": "aws:sns"', '"Type": "Notification"', "in US East (Ohio)"]


def _ddb_stream_event(g: Gen):
    a, t = g.account(), g.name("Camel")
    text = ('{"Records":[{"eventID":"' + g.alnum(32, _HEX) + '","eventName":"MODIFY","eventVersion":"1.1",'
            '"eventSource":"aws:dynamodb","awsRegion":"eu-central-1","dynamodb":{"Keys":{"pk":{"S":"ORDER#1042"}},'
            '"SequenceNumber":"4421584500000000017450439091","SizeBytes":59,"StreamViewType":"NEW_AND_OLD_IMAGES"},'
            '"eventSourceARN":"arn:aws:dynamodb:eu-central-1:' + a + ':table/' + t + '/stream/2024-05-28T07:11:04.512"}]}')
    return text, [a, t], ['"eventName":"MODIFY"', '"StreamViewType":"NEW_AND_OLD_IMAGES"', "ORDER#1042"]


def _flow_logs(g: Gen):
    a, e1, e2 = g.account(), g.hexid("eni"), g.hexid("eni")
    text = (f"2 {a} {e1} 10.0.1.15 10.0.2.201 49761 5432 6 20 4249 1717236000 1717236060 ACCEPT OK\n"
            f"2 {a} {e1} 10.0.2.201 10.0.1.15 5432 49761 6 18 3012 1717236000 1717236060 ACCEPT OK\n"
            f"2 {a} {e2} 198.51.100.201 10.0.3.77 51234 22 6 1 40 1717236010 1717236070 REJECT OK\n"
            f"2 {a} {e2} - - - - - - - 1717236070 1717236130 - NODATA")
    return text, [a, e1, e2], ["ACCEPT OK", "REJECT OK", "NODATA"]


def _alb_log(g: Gen):
    a, lb, lbid, tg, tgid, r = g.account(), g.name("pms"), g.alnum(16, _HEX), g.name("ms"), g.alnum(16, _HEX), g.region()
    text = (f"https 2024-06-01T12:01:02.123456Z app/{lb}/{lbid} 198.51.100.7:51234 10.0.12.80:8080 0.001 0.214 0.000 "
            '502 502 341 712 "POST https://api.example.com:443/v1/orders HTTP/1.1" "okhttp/4.12.0" '
            f"ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{tgid} "
            '"Root=1-665b0e8e-3f1c2a7b9d0e4f5a6b7c8d9e" "api.example.com" '
            f'"arn:aws:acm:{r}:{a}:certificate/{_uuid(g)}" 0 2024-06-01T12:01:01.907000Z "forward" "-" "-" '
            '"10.0.12.80:8080" "502" "-" "-" TID_' + g.alnum(32, _HEX))
    return text, [a, lb, lbid, tg, tgid], ["ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2", '"forward"', "okhttp/4.12.0"]


def _elb_classic_log(g: Gen):
    lb = g.name("pms")
    text = (f"2024-06-01T12:02:03.945958Z {lb} 192.0.2.131:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "
            f'"GET http://www.example.com:80/health HTTP/1.1" "curl/8.5.0" - -\n'
            f"2024-06-01T12:02:04.112201Z {lb} 192.0.2.131:2818 - -1 -1 -1 503 0 0 0 "
            '"GET http://www.example.com:80/ HTTP/1.1" "curl/8.5.0" - -')
    return text, [lb], ['"curl/8.5.0"', "HTTP/1.1"]


def _s3_access_log(g: Gen):
    canon, b, a, u = g.alnum(64, _HEX), g.bucket(), g.account(), g.name("ms")
    text = (f"{canon} {b} [01/Jun/2024:12:03:38 +0000] 192.0.2.3 arn:aws:iam::{a}:user/{u} "
            f"{g.alnum(16, '0123456789ABCDEF')} REST.GET.OBJECT reports/2024/q2.pdf "
            f'"GET /{b}/reports/2024/q2.pdf HTTP/1.1" 403 AccessDenied 243 - 12 - "-" "aws-sdk-java/2.25.6" - '
            f"{g.alnum(76, _B64)}= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader {b}.s3.eu-west-1.amazonaws.com TLSv1.2 - -")
    return text, [canon, b, a, u], ["REST.GET.OBJECT", "SigV4", "AuthHeader", "aws-sdk-java/2.25.6"]


def _lambda_tail(g: Gen):
    f_, u = g.name("pms"), _uuid(g)
    stream = f"2024/06/01/[$LATEST]{g.alnum(32, _HEX)}"
    text = (f"$ aws logs tail /aws/lambda/{f_} --since 10m\n"
            f"2024-06-01T12:04:00.101000+00:00 {stream} INIT_START Runtime Version: python:3.12.v29\n"
            f"2024-06-01T12:04:00.512000+00:00 {stream} START RequestId: {u} Version: $LATEST\n"
            f"2024-06-01T12:04:03.020000+00:00 {stream} [ERROR] KeyError: 'customer_id'\n"
            f"2024-06-01T12:04:03.031000+00:00 {stream} END RequestId: {u}\n"
            f"2024-06-01T12:04:03.031000+00:00 {stream} REPORT RequestId: {u}\tDuration: 2518.77 ms\t"
            "Billed Duration: 2519 ms\tMemory Size: 512 MB\tMax Memory Used: 118 MB\tInit Duration: 410.12 ms")
    return text, [f_], ["Billed Duration: 2519 ms", "Version: $LATEST", "KeyError: 'customer_id'"]


def _insights(g: Gen):
    a, f1, f2 = g.account(), g.name("pms"), g.name("pms")
    text = ("fields @timestamp, @log, @message | filter @message like /Task timed out/ | sort @timestamp desc | limit 3\n\n"
            "| @timestamp              | @log                               | @message |\n"
            "|-------------------------|------------------------------------|----------|\n"
            f"| 2024-06-01 12:10:04.512 | {a}:/aws/lambda/{f1} | Task timed out after 30.03 seconds |\n"
            f"| 2024-06-01 12:09:58.007 | {a}:/aws/lambda/{f2} | Task timed out after 15.01 seconds |")
    return text, [a, f1, f2], ["@timestamp", "Task timed out after 30.03 seconds"]


def _apigw_access(g: Gen):
    api = g.alnum(10)
    text = (f"log group: API-Gateway-Execution-Logs_{api}/prod\n"
            '{"requestId":"' + _uuid(g) + '","ip":"198.51.100.44","requestTime":"01/Jun/2024:12:11:09 +0000",'
            '"httpMethod":"POST","resourcePath":"/orders/{id}","status":"504","protocol":"HTTP/1.1",'
            '"responseLength":"41","apiId":"' + api + '","stage":"prod","integrationLatency":"29001",'
            '"errorMessage":"Endpoint request timed out"}')
    return text, [api], ['"httpMethod":"POST"', '"status":"504"', "Endpoint request timed out"]


def _cloudfront_log(g: Gen):
    d = "d" + g.alnum(13)
    text = ("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status "
            "cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header "
            "cs-protocol cs-bytes time-taken\n"
            f"2024-06-01\t12:12:31\tFRA56-P3\t392\t192.0.2.100\tGET\t{d}.cloudfront.net\t/index.html\t200\t-\t"
            f"Mozilla/5.0\t-\t-\tHit\t{g.alnum(56, _B64.replace('+', '_').replace('/', '-'))}==\t{d}.cloudfront.net\thttps\t23\t0.001")
    return text, [d], ["#Version: 1.0", "FRA56-P3", "/index.html"]


def _ecs_metadata(g: Gen):
    a, c, tid, fam, repo = g.account(), g.name("pms"), g.alnum(32, _HEX), g.name("ms"), g.name("ms")
    text = ('{\n  "Cluster": "arn:aws:ecs:us-west-2:' + a + ':cluster/' + c + '",\n'
            '  "TaskARN": "arn:aws:ecs:us-west-2:' + a + ':task/' + c + '/' + tid + '",\n'
            '  "Family": "' + fam + '",\n  "Revision": "14",\n  "DesiredStatus": "RUNNING",\n  "KnownStatus": "RUNNING",\n'
            '  "AvailabilityZone": "us-west-2b",\n  "LaunchType": "FARGATE",\n  "Containers": [{\n'
            '    "DockerId": "' + tid + '-' + g.alnum(10, "0123456789") + '",\n    "Name": "app",\n'
            '    "Image": "' + a + '.dkr.ecr.us-west-2.amazonaws.com/' + repo + ':1.8.0",\n'
            '    "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.2.106"]}]\n  }]\n}')
    return text, [a, c, tid, fam, repo], ['"LaunchType": "FARGATE"', '"DesiredStatus": "RUNNING"', '"NetworkMode": "awsvpc"']


def _boto3_kms(g: Gen):
    a, role, i, key = g.account(), g.name("pms"), g.iid(), _uuid(g)
    text = ("Traceback (most recent call last):\n"
            '  File "/opt/app/secrets.py", line 27, in load\n'
            "    plaintext = kms.decrypt(CiphertextBlob=blob)[\"Plaintext\"]\n"
            '  File "/usr/lib/python3/dist-packages/botocore/client.py", line 1021, in _make_api_call\n'
            "    raise error_class(parsed_response, operation_name)\n"
            "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the Decrypt "
            f"operation: User: arn:aws:sts::{a}:assumed-role/{role}/{i} is not authorized to perform: kms:Decrypt on "
            f"resource: arn:aws:kms:eu-west-1:{a}:key/{key} because no identity-based policy allows the kms:Decrypt action")
    return text, [a, role, i, key], ["AccessDeniedException", "kms:Decrypt", "_make_api_call"]


def _boto3_secret(g: Gen):
    sid = f"prod/{g.name('ms')}/db-credentials"
    text = ("Traceback (most recent call last):\n"
            '  File "handler.py", line 12, in <module>\n'
            f'    secret = sm.get_secret_value(SecretId="{sid}")\n'
            "botocore.errorfactory.ResourceNotFoundException: An error occurred (ResourceNotFoundException) when "
            "calling the GetSecretValue operation: Secrets Manager can't find the specified secret.")
    return text, [sid], ["GetSecretValue", "ResourceNotFoundException"]


def _java_v2_nosuchbucket(g: Gen):
    b = g.bucket()
    text = (f"2024-06-01 12:20:11.417 ERROR [export-worker-3] c.e.export.S3Uploader : upload to s3://{b}/exports/2024-06-01.csv failed\n"
            "software.amazon.awssdk.services.s3.model.NoSuchBucketException: The specified bucket does not exist "
            f"(Service: S3, Status Code: 404, Request ID: {g.alnum(16, _UPPER_ALNUM)}, Extended Request ID: {g.alnum(76, _B64)}=)\n"
            "\tat software.amazon.awssdk.services.s3.model.NoSuchBucketException$BuilderImpl.build(NoSuchBucketException.java:104)")
    return text, [b], ["Status Code: 404", "NoSuchBucketException.java:104", "export-worker-3"]


def _java_v1_s3a(g: Gen):
    b = g.bucket()
    text = (f"java.nio.file.AccessDeniedException: s3a://{b}/warehouse/events/dt=2024-06-01: getFileStatus on "
            f"s3a://{b}/warehouse/events/dt=2024-06-01: com.amazonaws.services.s3.model.AmazonS3Exception: Forbidden "
            f"(Service: Amazon S3; Status Code: 403; Error Code: 403 Forbidden; Request ID: {g.alnum(16, _UPPER_ALNUM)}; "
            f"S3 Extended Request ID: {g.alnum(76, _B64)}=), S3 Extended Request ID: {g.alnum(76, _B64)}=:403 Forbidden")
    return text, [b], ["Error Code: 403 Forbidden", "getFileStatus"]


def _go_v2_scp(g: Gen):
    a, role, b = g.account(), g.name("pms"), g.bucket()
    text = (f"2024/06/01 12:21:40 upload failed: operation error S3: PutObject, https response error StatusCode: 403, "
            f"RequestID: {g.alnum(16, _UPPER_ALNUM)}, HostID: {g.alnum(76, _B64)}=, api error AccessDenied: User: "
            f"arn:aws:sts::{a}:assumed-role/{role}/aws-go-sdk-1717244500123456789 is not authorized to perform: "
            f's3:PutObject on resource: "arn:aws:s3:::{b}/backups/pg/base.tar.zst" with an explicit deny in a service '
            "control policy")
    return text, [a, role, b], ["operation error S3: PutObject", "StatusCode: 403"]


def _go_v2_ddb(g: Gen):
    t = g.name()
    text = (f'time=2024-06-01T12:22:05Z level=ERROR msg="write failed" table={t} '
            f'err="operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: '
            f'{g.alnum(52, _UPPER_ALNUM)}, ResourceNotFoundException: Requested resource not found"')
    return text, [t], ["level=ERROR", "operation error DynamoDB: PutItem"]


def _tf_role_exists(g: Gen):
    role = g.name("pms")
    text = ("╷\n"
            f"│ Error: creating IAM Role ({role}): operation error IAM: CreateRole, https response error StatusCode: 409, "
            f"RequestID: {_uuid(g)}, EntityAlreadyExists: Role with name {role} already exists.\n"
            "│ \n│   with aws_iam_role.lambda_exec,\n"
            '│   on iam.tf line 12, in resource "aws_iam_role" "lambda_exec":\n'
            '│   12: resource "aws_iam_role" "lambda_exec" {\n│ \n╵')
    return text, [role], ["aws_iam_role.lambda_exec", "on iam.tf line 12", "EntityAlreadyExists"]


def _tf_vpc_dependency(g: Gen):
    v = g.hexid("vpc")
    text = ("╷\n"
            f"│ Error: deleting EC2 VPC ({v}): operation error EC2: DeleteVpc, https response error StatusCode: 400, "
            f"RequestID: {_uuid(g)}, api error DependencyViolation: The vpc '{v}' has dependencies and cannot be deleted.\n"
            "│ \n│ \n╵")
    return text, [v], ["DependencyViolation", "operation error EC2: DeleteVpc"]


def _tf_state_lock(g: Gen):
    b, t = g.bucket(), g.name("pms")
    text = ("╷\n│ Error: Error acquiring the state lock\n│ \n"
            "│ Error message: operation error DynamoDB: PutItem, https response error StatusCode: 400, RequestID: "
            f"{g.alnum(52, _UPPER_ALNUM)}, ConditionalCheckFailedException: The conditional request failed\n"
            f"│ Lock Info:\n│   ID:        {_uuid(g)}\n│   Path:      {b}/env/prod/terraform.tfstate\n"
            "│   Operation: OperationTypeApply\n│   Who:       runner@fv-az1120-417\n│   Version:   1.8.4\n"
            "│   Created:   2024-06-01 12:23:11.503129 +0000 UTC\n│   Info:      \n│ \n"
            f"│ (lock table: {t})\n╵")
    return text, [b, t], ["OperationTypeApply", "Version:   1.8.4", "env/prod/terraform.tfstate"]


def _cdk_fail(g: Gen):
    st, b = g.name("Camel"), g.bucket()
    text = (f" ❌  {st} failed: Error: The stack named {st} failed creation, it may need to be manually deleted from "
            "the AWS console: ROLLBACK_COMPLETE: Resource handler returned message: "
            f'"{b} already exists (Service: S3, Status Code: 0, Request ID: null)" (RequestToken: {_uuid(g)}, '
            "HandlerErrorCode: AlreadyExists)\n    at FullCloudFormationDeployment.monitorDeployment "
            "(/usr/local/lib/node_modules/aws-cdk/lib/index.js:451:10568)")
    return text, [st, b], ["ROLLBACK_COMPLETE", "HandlerErrorCode: AlreadyExists", "FullCloudFormationDeployment"]


def _cfn_events(g: Gen):
    st, t, f_ = g.name("pms"), g.name("pms"), g.name("pms")
    text = ("$ aws cloudformation describe-stack-events --stack-name " + st + " --max-items 3 --output text \\\n"
            "    --query 'StackEvents[].[Timestamp,LogicalResourceId,ResourceType,ResourceStatus,PhysicalResourceId,ResourceStatusReason]'\n"
            f"2024-06-01T12:30:11.245Z\t{st}\tAWS::CloudFormation::Stack\tROLLBACK_IN_PROGRESS\t"
            f"arn:aws:cloudformation:us-east-1:{g.account()}:stack/{st}/{_uuid(g)}\tThe following resource(s) failed to create: [OrdersTable].\n"
            f"2024-06-01T12:30:10.880Z\tOrdersTable\tAWS::DynamoDB::Table\tCREATE_FAILED\t{t}\t"
            f"Resource handler returned message: \"Table already exists: {t}\" (HandlerErrorCode: AlreadyExists)\n"
            f"2024-06-01T12:29:52.301Z\tWorkerFunction\tAWS::Lambda::Function\tCREATE_COMPLETE\t{f_}\tNone")
    return text, [st, t, f_], ["AWS::DynamoDB::Table", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "AWS::Lambda::Function"]


def _eks_auth(g: Gen):
    a, c, u = g.account(), g.name("pms"), g.person().replace(".", "_")
    text = (f"$ aws eks update-kubeconfig --name {c} --region us-east-1\n"
            f"Updated context arn:aws:eks:us-east-1:{a}:cluster/{c} in /home/dev/.kube/config\n"
            "$ kubectl get pods\nerror: You must be logged in to the server (Unauthorized)\n"
            "$ aws eks describe-cluster --name " + c + "\n"
            "An error occurred (AccessDeniedException) when calling the DescribeCluster operation: User: "
            f"arn:aws:iam::{a}:user/{u} is not authorized to perform: eks:DescribeCluster on resource: "
            f"arn:aws:eks:us-east-1:{a}:cluster/{c}")
    return text, [a, c, u], ["(Unauthorized)", "eks:DescribeCluster", "/home/dev/.kube/config"]


def _lbc_error(g: Gen):
    a, role = g.account(), g.name("pms")
    text = ('{"level":"error","ts":"2024-06-01T12:31:40Z","msg":"Reconciler error","controller":"ingress",'
            '"object":{"name":"web","namespace":"shop"},"error":"AccessDenied: User: arn:aws:sts::' + a +
            ':assumed-role/' + role + '/1717245100123456789 is not authorized to perform: '
            'elasticloadbalancing:CreateTargetGroup on resource: arn:aws:elasticloadbalancing:us-west-2:' + a +
            ':targetgroup/k8s-shop-web-' + g.alnum(10, _HEX) + '/*\\n\\tstatus code: 403, request id: ' + _uuid(g) + '"}')
    return text, [a, role], ['"controller":"ingress"', '"msg":"Reconciler error"', "elasticloadbalancing:CreateTargetGroup"]


def _sam_deploy(g: Gen):
    st, api, sb = g.name("pms"), g.alnum(10), "aws-sam-cli-managed-default-samclisourcebucket-" + g.alnum(12)
    text = ("\n\tDeploying with following values\n\t===============================\n"
            f"\tStack name                   : {st}\n\tRegion                       : us-east-1\n"
            "\tConfirm changeset            : True\n\tDisable rollback             : False\n"
            f"\tDeployment s3 bucket         : {sb}\n"
            '\tCapabilities                 : ["CAPABILITY_IAM"]\n\n'
            "CloudFormation outputs from deployed stack\n"
            "-------------------------------------------------------------------------------\n"
            "Outputs\n-------------------------------------------------------------------------------\n"
            "Key                 HelloWorldApi\nDescription         API Gateway endpoint URL for Prod stage\n"
            f"Value               https://{api}.execute-api.us-east-1.amazonaws.com/Prod/hello/\n"
            "-------------------------------------------------------------------------------\n\n"
            f"Successfully created/updated stack - {st} in us-east-1")
    return text, [st, api, sb], ['"CAPABILITY_IAM"', "Confirm changeset            : True", "HelloWorldApi"]


def _sts_json(g: Gen):
    a, ro, role = g.account(), _aroa(g), g.name("pms")
    text = ("$ aws sts get-caller-identity\n{\n"
            f'    "UserId": "{ro}:botocore-session-1717245300",\n    "Account": "{a}",\n'
            f'    "Arn": "arn:aws:sts::{a}:assumed-role/{role}/botocore-session-1717245300"\n}}')
    return text, [a, ro, role], ["$ aws sts get-caller-identity"]


def _configure(g: Gen):
    k = g.akid()
    text = (f"$ aws configure get aws_access_key_id --profile ci\n{k}\n$ aws configure list --profile ci\n"
            "      Name                    Value             Type    Location\n"
            "      ----                    -----             ----    --------\n"
            "   profile                       ci           manual    --profile\n"
            f"access_key     ****************{k[-4:]} shared-credentials-file    \n"
            f"secret_key     ****************{g.alnum(4, _B64)} shared-credentials-file    \n"
            "    region                eu-west-1      config-file    ~/.aws/config")
    return text, [k], ["shared-credentials-file", "~/.aws/config", "config-file"]


def _tf_state_bucket(g: Gen):
    b = g.bucket()
    text = ("$ terraform state show aws_s3_bucket.logs\n# aws_s3_bucket.logs:\n"
            'resource "aws_s3_bucket" "logs" {\n'
            f'    arn                         = "arn:aws:s3:::{b}"\n    bucket                      = "{b}"\n'
            f'    bucket_domain_name          = "{b}.s3.amazonaws.com"\n'
            f'    bucket_regional_domain_name = "{b}.s3.eu-west-1.amazonaws.com"\n'
            "    force_destroy               = false\n"
            f'    id                          = "{b}"\n    object_lock_enabled         = false\n'
            '    tags                        = {\n        "Owner" = "platform"\n    }\n}')
    return text, [b], ['"aws_s3_bucket" "logs"', "force_destroy               = false", '"Owner" = "platform"']


def _tf_state_instance(g: Gen):
    a, i, sn, sg = g.account(), g.iid(), g.hexid("subnet"), g.hexid("sg")
    host = _node_host(g, "us-east-1")
    text = ("# aws_instance.worker:\n"
            'resource "aws_instance" "worker" {\n'
            f'    arn                          = "arn:aws:ec2:us-east-1:{a}:instance/{i}"\n'
            '    availability_zone            = "us-east-1c"\n'
            f'    id                           = "{i}"\n'
            '    instance_state               = "running"\n'
            '    instance_type                = "m6i.large"\n'
            f'    private_dns                  = "{host}"\n'
            f'    subnet_id                    = "{sn}"\n'
            f'    vpc_security_group_ids       = [\n        "{sg}",\n    ]\n}}')
    return text, [a, i, sn, sg, host], ['instance_state               = "running"', '"m6i.large"', '"us-east-1c"']


def _tf_output(g: Gen):
    b, d, h, a, f_, s = g.bucket(), g.name("pms"), g.alnum(12), g.account(), g.name("pms"), g.secret()
    text = ("$ terraform output\n"
            f'bucket_name = "{b}"\n'
            f'db_endpoint = "{d}.{h}.us-east-1.rds.amazonaws.com:5432"\n'
            "db_password = <sensitive>\n"
            f'lambda_arn = "arn:aws:lambda:us-east-1:{a}:function:{f_}"\n'
            f"$ terraform output -raw ci_secret_access_key\n{s}")
    return text, [b, d, h, a, f_, s], ["db_password = <sensitive>", "ci_secret_access_key"]


def _tf_show_json(g: Gen):
    a, q = g.account(), g.name("pms")
    text = ('{"format_version":"1.0","terraform_version":"1.8.4","values":{"root_module":{"resources":[{'
            '"address":"aws_sqs_queue.jobs","mode":"managed","type":"aws_sqs_queue","name":"jobs",'
            '"provider_name":"registry.terraform.io/hashicorp/aws","schema_version":0,"values":{'
            f'"arn":"arn:aws:sqs:us-east-2:{a}:{q}","fifo_queue":false,'
            f'"id":"https://sqs.us-east-2.amazonaws.com/{a}/{q}","name":"{q}","visibility_timeout_seconds":30}}'
            ',"sensitive_values":{}}]}}}')
    return text, [a, q], ['"address":"aws_sqs_queue.jobs"', '"name":"jobs"', '"mode":"managed"', '"terraform_version":"1.8.4"']


def _cdk_outputs(g: Gen):
    st, api, b, a, q = g.name("Camel"), g.alnum(10), g.bucket(), g.account(), g.name("pms")
    text = (f" ✅  {st}\n\n✨  Deployment time: 82.41s\n\nOutputs:\n"
            f"{st}.ApiEndpoint4F160690 = https://{api}.execute-api.eu-west-1.amazonaws.com/prod/\n"
            f"{st}.UploadsBucketName = {b}\n"
            f"{st}.JobsQueueUrl = https://sqs.eu-west-1.amazonaws.com/{a}/{q}\n"
            f"Stack ARN:\narn:aws:cloudformation:eu-west-1:{a}:stack/{st}/{_uuid(g)}\n\n✨  Total time: 95.1s")
    return text, [st, api, b, a, q], ["Deployment time: 82.41s", "Total time: 95.1s"]


def _eksctl(g: Gen):
    c, ng = g.name("pms"), "ng-" + g.name("ms")
    asg = f"eks-{ng}-{_uuid(g)}"
    text = ("$ eksctl get cluster --region us-west-2\n"
            f"NAME\t\t\tREGION\t\tEKSCTL CREATED\n{c}\tus-west-2\tTrue\n"
            f"$ eksctl get nodegroup --cluster {c}\n"
            "CLUSTER\tNODEGROUP\tSTATUS\tCREATED\t\t\tMIN SIZE\tMAX SIZE\tDESIRED CAPACITY\tINSTANCE TYPE\tIMAGE ID\t\tASG NAME\t\tTYPE\n"
            f"{c}\t{ng}\tACTIVE\t2024-05-20T08:11:42Z\t2\t\t6\t\t3\t\t\tm5.large\tAL2_x86_64\t{asg}\tmanaged")
    return text, [c, ng, asg], ["m5.large", "AL2_x86_64", "EKSCTL CREATED"]


def _kubectl_nodes(g: Gen):
    r = g.pick(["us-east-1", "us-west-2", "eu-west-1"])
    h1, h2 = _node_host(g, r), _node_host(g, r)
    ip1 = h1.split(".")[0][3:].replace("-", ".")
    ip2 = h2.split(".")[0][3:].replace("-", ".")
    text = ("$ kubectl get nodes -o wide\n"
            "NAME                                          STATUS   ROLES    AGE   VERSION               INTERNAL-IP    EXTERNAL-IP   OS-IMAGE                       KERNEL-VERSION                    CONTAINER-RUNTIME\n"
            f"{h1}   Ready    <none>   12d   v1.29.3-eks-ae9a62a   {ip1}      <none>        Amazon Linux 2023.4.20240528   6.1.91-99.172.amzn2023.x86_64     containerd://1.7.11\n"
            f"{h2}   NotReady <none>   3h    v1.29.3-eks-ae9a62a   {ip2}      <none>        Amazon Linux 2023.4.20240528   6.1.91-99.172.amzn2023.x86_64     containerd://1.7.11")
    return text, [h1, h2], ["v1.29.3-eks-ae9a62a", "containerd://1.7.11", "6.1.91-99.172.amzn2023.x86_64"]


def _kubectl_describe_node(g: Gen):
    c, ng, i = g.name("pms"), g.name("ms"), g.iid()
    host = _node_host(g, "us-east-1")
    text = (f"Name:               {host}\nRoles:              <none>\n"
            "Labels:             beta.kubernetes.io/arch=amd64\n"
            f"                    alpha.eksctl.io/cluster-name={c}\n"
            f"                    eks.amazonaws.com/nodegroup={ng}\n"
            "                    node.kubernetes.io/instance-type=m5.xlarge\n"
            "                    topology.kubernetes.io/zone=us-east-1a\n"
            f"ProviderID:         aws:///us-east-1a/{i}\n"
            "Taints:             <none>")
    return text, [c, ng, i, host], ["node.kubernetes.io/instance-type=m5.xlarge", "beta.kubernetes.io/arch=amd64",
                                    "topology.kubernetes.io/zone=us-east-1a"]


def _describe_sa(g: Gen):
    a, role = g.account(), g.name("pms")
    text = ("$ kubectl describe sa s3-reader -n data\n"
            "Name:                s3-reader\nNamespace:           data\n"
            "Labels:              app.kubernetes.io/managed-by=eksctl\n"
            f"Annotations:         eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n"
            "Image pull secrets:  <none>\nMountable secrets:   <none>\nTokens:              <none>\nEvents:              <none>")
    return text, [a, role], ["app.kubernetes.io/managed-by=eksctl", "Image pull secrets:  <none>"]


def _ecs_describe_tasks(g: Gen):
    a, c, tid, fam, sn, eni = g.account(), g.name("pms"), g.alnum(32, _HEX), g.name("ms"), g.hexid("subnet"), g.hexid("eni")
    text = ('{\n    "tasks": [\n        {\n'
            f'            "taskArn": "arn:aws:ecs:eu-west-1:{a}:task/{c}/{tid}",\n'
            f'            "clusterArn": "arn:aws:ecs:eu-west-1:{a}:cluster/{c}",\n'
            f'            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:{a}:task-definition/{fam}:12",\n'
            '            "lastStatus": "STOPPED",\n            "stopCode": "EssentialContainerExited",\n'
            '            "stoppedReason": "Essential container in task exited",\n'
            '            "containers": [{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}],\n'
            '            "attachments": [{"type": "ElasticNetworkInterface", "status": "DELETED", "details": [\n'
            f'                {{"name": "subnetId", "value": "{sn}"}},\n'
            f'                {{"name": "networkInterfaceId", "value": "{eni}"}},\n'
            '                {"name": "privateIPv4Address", "value": "10.0.7.31"}]}]\n        }\n    ]\n}')
    return text, [a, c, tid, fam, sn, eni], ['"stopCode": "EssentialContainerExited"', '"exitCode": 137',
                                             '"name": "subnetId"', '"type": "ElasticNetworkInterface"']


def _ecr_login(g: Gen):
    a, repo = g.account(), g.name("ms")
    host = f"{a}.dkr.ecr.eu-central-1.amazonaws.com"
    text = (f"$ aws ecr get-login-password --region eu-central-1 | docker login --username AWS --password-stdin {host}\n"
            "WARNING! Your password will be stored unencrypted in /home/runner/.docker/config.json.\n"
            "Login Succeeded\n"
            f"$ docker push {host}/{repo}:v2.3.1\nThe push refers to repository [{host}/{repo}]\n"
            f"v2.3.1: digest: sha256:{g.alnum(64, _HEX)} size: 1573")
    return text, [a, repo], ["Login Succeeded", "--username AWS", "size: 1573"]


def _ssm_session(g: Gen):
    i, d, h, u = g.iid(), g.name("pms"), g.alnum(12), g.person().replace(".", "-")
    sid = f"{u}-{g.alnum(17, _HEX)}"
    text = (f"$ aws ssm start-session --target {i} --document-name AWS-StartPortForwardingSessionToRemoteHost "
            f'--parameters \'{{"host":["{d}.{h}.eu-west-1.rds.amazonaws.com"],"portNumber":["5432"],"localPortNumber":["15432"]}}\'\n\n'
            f"Starting session with SessionId: {sid}\nPort 15432 opened for sessionId {sid}.\nWaiting for connections...")
    return text, [i, d, h, u], ["AWS-StartPortForwardingSessionToRemoteHost", "Waiting for connections...", "Port 15432"]


def _sfn(g: Gen):
    a, sm, f_ = g.account(), g.name("Camel"), g.name("pms")
    text = (f"$ aws stepfunctions start-execution --state-machine-arn arn:aws:states:us-east-1:{a}:stateMachine:{sm} "
            "--input file://in.json\n{\n"
            f'    "executionArn": "arn:aws:states:us-east-1:{a}:execution:{sm}:{_uuid(g)}",\n'
            '    "startDate": "2024-06-01T12:40:00.123000+00:00"\n}\n'
            "$ aws stepfunctions describe-execution --execution-arn ... --query '[status,error,cause]'\n"
            f'["FAILED", "States.TaskFailed", "Lambda function {f_} returned an error: Task timed out after 60.00 seconds"]')
    return text, [a, sm, f_], ['"States.TaskFailed"', "file://in.json", '"FAILED"']


# prose in chat, tickets, write-ups, commits; eight languages
def _jira(g: Gen):
    u, a, k, s = g.person().replace(".", "-"), g.account(), g.akid(), g.secret()
    text = (f"*Summary:* Rotate leaked access key for IAM user {u}\n*Environment:* prod ({a})\n"
            f"*Description:* The key {k} (secret `{s}`) was pushed to a public gist at 09:12 UTC.\n"
            f"# Deactivate {k}\n# Create a new key for {u}\n# Check CloudTrail for use of the key since 2024-05-31\n"
            "*Priority:* Blocker")
    return text, [u, a, k, s], ["*Summary:*", "*Priority:* Blocker", "2024-05-31"]


def _postmortem(g: Gen):
    sg1, sg2, d, nat, sn = g.hexid("sg"), g.hexid("sg"), g.name("pms"), g.hexid("nat"), g.hexid("subnet")
    text = ("## Postmortem: checkout outage 2024-06-01\n\n**Impact:** 37 min of 5xx on checkout.\n"
            f"**Root cause:** security group `{sg1}` on the RDS instance `{d}` lost its ingress rule from `{sg2}` "
            f"during a Terraform apply; meanwhile the NAT gateway {nat} in {sn} hit its port allocation limit.\n"
            "**Action items:** add a drift check (OPS-2291).")
    return text, [sg1, sg2, d, nat, sn], ["37 min", "OPS-2291", "**Root cause:**"]


def _commit(g: Gen):
    b1, b2, a = g.bucket(), g.bucket(), g.account()
    text = (f"fix(infra): point uploader at the new bucket\n\nThe old bucket {b1} is being retired; uploads now go to "
            f"\"{b2}\" in the shared account ({a}).\n\nRefs: PLAT-1187\nSigned-off-by: CI Bot <ci@example.com>")
    return text, [b1, b2, a], ["fix(infra):", "PLAT-1187", "Signed-off-by: CI Bot <ci@example.com>"]


def _slack_bullets(g: Gen):
    i, vol, eip, ip = g.iid(), g.hexid("vol"), g.hexid("eipalloc"), f"3.{g.r.randint(208, 239)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}"
    text = (f"quick q — who owns these? cost explorer flags them:\n• `{i}` (t3.xlarge, no Name tag)\n"
            f"• {vol} (unattached, 500 GiB gp3)\n• EIP {ip} / {eip}, not associated\nwill terminate Friday unless someone shouts")
    return text, [i, vol, eip, ip], ["t3.xlarge", "500 GiB gp3", "Friday"]


# code that hardcodes names, ARNs, accounts and keys
def _py_session(g: Gen):
    a, role, k, s = g.account(), g.name("pms"), g.akid(), g.secret()
    text = (f'ACCOUNT_ID = "{a}"\nROLE_ARN = f"arn:aws:iam::{{ACCOUNT_ID}}:role/{role}"\n\n'
            "session = boto3.Session(\n"
            f'    aws_access_key_id="{k}",\n    aws_secret_access_key="{s}",\n    region_name="us-east-2",\n)\n'
            'creds = session.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="etl")["Credentials"]')
    return text, [a, role, k, s], ['region_name="us-east-2"', 'RoleSessionName="etl"', '["Credentials"]']


def _ts_secret(g: Gen):
    a, name = g.account(), f"prod/{g.name('ms')}"
    text = ('const client = new SecretsManagerClient({ region: "eu-west-1" });\n'
            "const res = await client.send(new GetSecretValueCommand({\n"
            f'  SecretId: "arn:aws:secretsmanager:eu-west-1:{a}:secret:{name}-{g.alnum(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")}",\n'
            "}));\nconst { username, password } = JSON.parse(res.SecretString!);")
    return text, [a, name], ['region: "eu-west-1"', "JSON.parse(res.SecretString!)"]


def _go_fifo(g: Gen):
    a, q = g.account(), g.name("pms")
    text = ('cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("ap-southeast-2"))\n'
            "if err != nil {\n\tlog.Fatal(err)\n}\nclient := sqs.NewFromConfig(cfg)\n"
            f'queueURL := "https://sqs.ap-southeast-2.amazonaws.com/{a}/{q}.fifo"\n'
            "_, err = client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageGroupId: aws.String(\"orders\")})")
    return text, [a, q], ['config.WithRegion("ap-southeast-2")', 'MessageGroupId: aws.String("orders")']


def _java_consts(g: Gen):
    t, a, s_ = g.name("Camel"), g.account(), g.name("pms")
    text = ("public final class AwsConfig {\n"
            f'    public static final String ORDERS_TABLE = "{t}";\n'
            f'    public static final String CLICKSTREAM_ARN = "arn:aws:kinesis:us-east-1:{a}:stream/{s_}";\n'
            "    public static final Duration TIMEOUT = Duration.ofSeconds(30);\n}")
    return text, [t, a, s_], ["Duration.ofSeconds(30)", "public final class AwsConfig"]


def _tf_provider(g: Gen):
    a, role, v = g.account(), g.name("pms"), g.hexid("vpc")
    text = ('provider "aws" {\n  region = "eu-west-1"\n\n  assume_role {\n'
            f'    role_arn     = "arn:aws:iam::{a}:role/{role}"\n    session_name = "terraform"\n  }}\n\n'
            f'  allowed_account_ids = ["{a}"]\n}}\n\ndata "aws_vpc" "main" {{\n  id = "{v}"\n}}')
    return text, [a, role, v], ['session_name = "terraform"', 'data "aws_vpc" "main"']


def _cfn_deploy_cmd(g: Gen):
    st, v, s1, s2, k = g.name("pms"), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet"), g.name("ms")
    text = (f"aws cloudformation deploy \\\n  --stack-name {st} \\\n  --template-file packaged.yaml \\\n"
            f"  --parameter-overrides VpcId={v} SubnetIds={s1},{s2} KeyName={k} Env=prod \\\n"
            "  --capabilities CAPABILITY_NAMED_IAM \\\n  --no-fail-on-empty-changeset")
    return text, [st, v, s1, s2, k], ["--capabilities CAPABILITY_NAMED_IAM", "--template-file packaged.yaml", "Env=prod"]


def _ansible(g: Gen):
    b, k, sn, sg = g.bucket(), g.name("ms"), g.hexid("subnet"), g.hexid("sg")
    text = ("- name: Upload build artifact\n  amazon.aws.s3_object:\n"
            f"    bucket: {b}\n    object: /releases/app-1.4.2.tar.gz\n    src: dist/app.tar.gz\n    mode: put\n\n"
            "- name: Launch worker\n  amazon.aws.ec2_instance:\n    name: worker-01\n"
            f"    key_name: {k}\n    vpc_subnet_id: {sn}\n    instance_type: c6i.large\n    security_group: {sg}\n"
            "    region: us-east-1")
    return text, [b, k, sn, sg], ["mode: put", "instance_type: c6i.large", "amazon.aws.s3_object", "/releases/app-1.4.2.tar.gz"]


def _gha(g: Gen):
    a, role, repo, b = g.account(), g.name("pms"), g.name("ms"), g.bucket()
    dist = "E" + g.alnum(13, _UPPER_ALNUM)
    text = ("permissions:\n  id-token: write\n  contents: read\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n"
            f"          role-to-assume: arn:aws:iam::{a}:role/{role}\n          aws-region: us-east-1\n"
            "      - uses: aws-actions/amazon-ecr-login@v2\n      - run: |\n"
            f"          docker build -t {a}.dkr.ecr.us-east-1.amazonaws.com/{repo}:${{{{ github.sha }}}} .\n"
            f"          aws s3 sync ./dist s3://{b} --delete\n"
            f'          aws cloudfront create-invalidation --distribution-id {dist} --paths "/*"')
    return text, [a, role, repo, b, dist], ["aws-actions/configure-aws-credentials@v4", "actions/checkout@v4",
                                            "${{ github.sha }}", "id-token: write"]


def _dockerfile(g: Gen):
    a, ns, k, b = g.account(), g.name("ms"), g.akid(), g.bucket()
    dig = g.alnum(64, _HEX)
    text = (f"FROM {a}.dkr.ecr.us-west-2.amazonaws.com/{ns}/python:3.12-slim@sha256:{dig}\n"
            f"ARG AWS_ACCESS_KEY_ID={k}\nENV ASSETS_BUCKET={b} \\\n    PYTHONUNBUFFERED=1\n"
            "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nEXPOSE 8000")
    return text, [a, ns, k, b], [f"sha256:{dig}", "PYTHONUNBUFFERED=1", "EXPOSE 8000"]


def _shell(g: Gen):
    k, s, tok, b, a, d = _asia(g), g.secret(), _session_token(g), g.bucket(), g.account(), g.name("pms")
    sec = g.name("ms")
    text = ("#!/usr/bin/env bash\nset -euo pipefail\n"
            f"export AWS_ACCESS_KEY_ID={k}\nexport AWS_SECRET_ACCESS_KEY={s}\nexport AWS_SESSION_TOKEN={tok}\n"
            f"aws s3 cp s3://{b}/dumps/latest.sql.gz /tmp/ --region ca-central-1\n"
            f"aws rds-data execute-statement --resource-arn arn:aws:rds:ca-central-1:{a}:cluster:{d} \\\n"
            f"  --secret-arn arn:aws:secretsmanager:ca-central-1:{a}:secret:{sec}-{g.alnum(6)} --sql \"select 1\"")
    return text, [k, s, tok, b, a, d, sec], ["set -euo pipefail", '--sql "select 1"', "dumps/latest.sql.gz"]


def _ingress(g: Gen):
    a, sg, s1, s2, lb = g.account(), g.hexid("sg"), g.hexid("subnet"), g.hexid("subnet"), g.name("pms")
    text = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
            "    alb.ingress.kubernetes.io/scheme: internet-facing\n"
            f"    alb.ingress.kubernetes.io/load-balancer-name: {lb}\n"
            f"    alb.ingress.kubernetes.io/certificate-arn: arn:aws:acm:us-west-2:{a}:certificate/{_uuid(g)}\n"
            f"    alb.ingress.kubernetes.io/security-groups: {sg}\n"
            f"    alb.ingress.kubernetes.io/subnets: {s1}, {s2}\nspec:\n  ingressClassName: alb")
    return text, [a, sg, s1, s2, lb], ["alb.ingress.kubernetes.io/scheme: internet-facing", "ingressClassName: alb",
                                       "kind: Ingress"]


VARIANTS_4: list[Template] = [
    # CloudTrail records, EventBridge, S3 / SQS / SNS / DynamoDB-stream event payloads (#0-#7)
    _ct_iam_user, _ct_assumed_role, _ct_root_login, _eventbridge_ec2, _s3_event, _sqs_lambda_event,
    _sns_lambda_event, _ddb_stream_event,
    # logs: VPC flow, ALB, classic ELB, S3 server access, Lambda via logs tail, Logs Insights, API Gateway,
    # CloudFront, ECS task metadata (#8-#16)
    _flow_logs, _alb_log, _elb_classic_log, _s3_access_log, _lambda_tail, _insights, _apigw_access,
    _cloudfront_log, _ecs_metadata,
    # errors: boto3, Java v2 / v1 (s3a), Go v2, Terraform, CDK, CloudFormation events, EKS, the AWS Load
    # Balancer Controller (#17-#29)
    _boto3_kms, _boto3_secret, _java_v2_nosuchbucket, _java_v1_s3a, _go_v2_scp, _go_v2_ddb, _tf_role_exists,
    _tf_vpc_dependency, _tf_state_lock, _cdk_fail, _cfn_events, _eks_auth, _lbc_error,
    # tool output: SAM deploy, sts, configure, terraform state/output/show -json, cdk deploy, eksctl, kubectl,
    # ecs describe-tasks, docker login/push to ECR, SSM port forwarding, Step Functions (#30-#45)
    _sam_deploy, _sts_json, _configure, _tf_state_bucket, _tf_state_instance, _tf_output, _tf_show_json,
    _cdk_outputs, _eksctl, _kubectl_nodes, _kubectl_describe_node, _describe_sa, _ecs_describe_tasks,
    _ecr_login, _ssm_session, _sfn,
    # prose: English, German, French, Spanish, Portuguese, Japanese, Korean, Chinese (#46-#56)
    _jira, _postmortem, _commit, _slack_bullets,
    lambda g: (lambda b, a: (f"Hi zusammen, der Bucket `{b}` im Konto {a} ist seit heute Morgen öffentlich lesbar "
                             "(Block Public Access war aus). Bitte bis 14:00 fixen!", [b, a], ["14:00", "Block Public Access"]))(
        g.bucket(), g.account()),
    lambda g: (lambda q, a, f_: (f"Incident INC-2041 : la file SQS « {q} » du compte {a} a atteint 120 000 messages ; "
                                 f"la fonction Lambda « {f_} » tombe en timeout (15 min).", [q, a, f_], ["INC-2041", "120 000 messages"]))(
        g.name("pms"), g.account(), g.name("pms")),
    lambda g: (lambda t, a: (f"Hola equipo: la tabla DynamoDB '{t}' en la cuenta {a} (región sa-east-1) devuelve "
                             "ThrottlingException desde las 10:05. ¿Podemos subir la capacidad?", [t, a],
                             ["ThrottlingException", "(región sa-east-1)"]))(g.name(), g.account()),
    lambda g: (lambda c, a, repo: (f"Pessoal, o cluster EKS {c} na conta {a} não consegue puxar imagens do repositório "
                                   f"ECR \"{repo}\" desde ontem — erro 403 no pull.", [c, a, repo], ["erro 403"]))(
        g.name("pms"), g.account(), g.name("ms")),
    lambda g: (lambda a, svc, c: (f"お疲れ様です。ステージング環境（アカウントID: {a}）のECSサービス「{svc}」が起動しません。"
                                  f"クラスタは {c} です。", [a, svc, c], []))(g.account(), g.name("pms"), g.name("pms")),
    lambda g: (lambda a, d, i: (f"안녕하세요, 프로덕션 계정 {a} 의 RDS 클러스터 `{d}` 에서 페일오버가 발생했습니다. "
                                f"문제의 인스턴스 ID는 {i} 입니다.", [a, d, i], []))(g.account(), g.name("pms"), g.iid()),
    lambda g: (lambda f_, t, a, r: (f"请帮忙看一下：Lambda 函数 `{f_}` 调用 DynamoDB 表 {t} 时报 AccessDeniedException，"
                                    f"执行角色是 arn:aws:iam::{a}:role/{r}。", [f_, t, a, r], ["AccessDeniedException"]))(
        g.name("pms"), g.name(), g.account(), g.name("pms")),
    # code: Python, TypeScript, Go, Java, Terraform, CloudFormation deploy, Ansible, GitHub Actions, Dockerfile,
    # shell, Kubernetes Ingress (#57-#67)
    _py_session, _ts_secret, _go_fifo, _java_consts, _tf_provider, _cfn_deploy_cmd, _ansible, _gha, _dockerfile,
    _shell, _ingress,
    # negatives: must come through unchanged (#68-#72)
    lambda g: ("$ kubectl get pods -n kube-system\nNAME                                  READY   STATUS    RESTARTS   AGE\n"
               "aws-node-x7k2p                        2/2     Running   0          12d\n"
               "coredns-5b9dfbf96-4xjzq               1/1     Running   0          12d\n"
               "ebs-csi-controller-6c8d7f9b4d-q8wzr   6/6     Running   1 (3d ago) 12d\n"
               "kube-proxy-9hl2m                      1/1     Running   0          12d",
               [], ["aws-node-x7k2p", "coredns-5b9dfbf96-4xjzq", "ebs-csi-controller-6c8d7f9b4d-q8wzr", "kube-proxy-9hl2m"]),
    lambda g: (lambda sha, dig: (f"Bumped aws-sdk-go-v2 from v1.26.1 to v1.30.3 and boto3 to 1.34.131 (commit {sha}); "
                                 f"base image nginx@sha256:{dig}, built 2024-06-01T12:34:56Z.",
                                 [], [sha, f"sha256:{dig}", "v1.30.3", "1.34.131", "2024-06-01T12:34:56Z"]))(
        g.alnum(40, _HEX), g.alnum(64, _HEX)),
    lambda g: ("Stack status CREATE_COMPLETE, instance state running, table status ACTIVE; services: Amazon S3, "
               "AWS Lambda, Amazon DynamoDB, Amazon EKS; regions us-east-1, eu-west-1, ap-southeast-2; "
               "instance types m5.large, r6g.2xlarge, t4g.nano.", [],
               ["CREATE_COMPLETE", "ACTIVE", "Amazon DynamoDB", "us-east-1, eu-west-1, ap-southeast-2", "r6g.2xlarge", "t4g.nano"]),
    lambda g: ('{"port": 8080, "timeout": "30s", "retries": 3, "logLevel": "info", "region": "eu-west-1", '
               '"featureFlags": {"newCheckout": true}, "build": 4821, "startedAt": 1717245296123}', [],
               ['"port": 8080', '"region": "eu-west-1"', '"startedAt": 1717245296123', '"logLevel": "info"']),
    lambda g: ("We should turn on S3 Versioning and raise the Lambda timeout to 15 minutes; the EKS cluster "
               "autoscaler needs IRSA. Only port 443 is open. See JIRA-4411 and PR #2213; the queue depth alarm "
               "fires at 1000 messages.", [], ["JIRA-4411", "PR #2213", "port 443", "cluster autoscaler", "1000 messages"]),
]


# --- variants-5: a fifth held-out list (session 8), written by a helper that never read the engine or its
# packs, from contexts the earlier sets do not cover: what coding agents paste (aws CLI JSON from a Bash tool:
# describe-instances, list-functions, describe-db-instances, get-bucket-policy, describe-stacks, ecr
# describe-images, iam list-roles; ~/.aws/config, kubeconfig, env | grep AWS, tfvars, samconfig.toml,
# cdk.context.json, serverless.yml, copilot, aws-exports.js / amplify_outputs.json, buildspec, appspec, ECS
# task definitions, Step Functions ASL, EventBridge targets, IAM / KMS / SCP policies with Condition keys),
# observability (Datadog / PagerDuty / Opsgenie alerts, CloudWatch alarm mail, Health events, GuardDuty,
# Security Hub, Config, Trusted Advisor, CUR, Athena), endpoints in connection strings (Redshift JDBC, RDS
# URLs, ElastiCache, OpenSearch, MSK, function URLs, Cognito hosted UI), code and config (C#, PHP, Ruby,
# Kotlin, Swift, bash variables, Makefile, Ansible, Helm IRSA, Crossplane/ACK, docker-compose with LocalStack,
# Spring, Django, .env, terragrunt, Terraform variables), human text (GitHub issue, PR review, Q&A, runbook,
# Slack, email, markdown decorations, Italian, Dutch, Polish, Chinese, Korean) and negatives; 74 templates.
# Measured as it came out (report seed 13, 5 per template): 88.0 % recall (text and JSON alike), 60.8 % pass,
# 93.2 % kept, 29 failing templates (24 leak a value, 5 change a must-keep value); seed 7: 88.0 %, 69 of 74
# must-keep cases kept. Never tuned to. (Two must-keep labels were dropped before this measurement as not
# obviously safe: #12's VPC CIDR block and #32's Config rule name, which the customer chooses.) ---------------
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_MIXED_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _pub_ip(g: Gen) -> str:
    return f"{g.pick([3, 18, 34, 44, 52, 54])}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(2, 254)}"


def _ec2_pub_dns(ip: str, region: str) -> str:
    dom = "compute-1.amazonaws.com" if region == "us-east-1" else f"{region}.compute.amazonaws.com"
    return f"ec2-{ip.replace('.', '-')}.{dom}"


def _pool_id(g: Gen, region: str) -> str:
    return f"{region}_{g.alnum(9, _MIXED_ALNUM)}"


# agents' Bash tool results: aws CLI JSON
def _v5_describe_instances(g: Gen):
    a, i, ami, k, sn, v, sg, prof, nm = (g.account(), g.iid(), g.hexid("ami"), g.name("ms"), g.hexid("subnet"),
                                         g.hexid("vpc"), g.hexid("sg"), g.name("pms"), g.name("pms"))
    r, ip, pip, sgn = g.region(), _ip10(g), _pub_ip(g), g.name("ms")
    text = ("$ aws ec2 describe-instances --filters Name=tag:Name,Values=" + nm + " --output json\n"
            '{\n    "Reservations": [\n        {\n            "Groups": [],\n            "Instances": [\n                {\n'
            f'                    "AmiLaunchIndex": 0,\n                    "ImageId": "{ami}",\n'
            f'                    "InstanceId": "{i}",\n                    "InstanceType": "m6i.large",\n'
            f'                    "KeyName": "{k}",\n                    "LaunchTime": "2024-06-03T07:12:44+00:00",\n'
            f'                    "Placement": {{"AvailabilityZone": "{r}b", "Tenancy": "default"}},\n'
            f'                    "PrivateDnsName": "ip-{ip.replace(".", "-")}.{"ec2.internal" if r == "us-east-1" else r + ".compute.internal"}",\n'
            f'                    "PrivateIpAddress": "{ip}",\n'
            f'                    "PublicDnsName": "{_ec2_pub_dns(pip, r)}",\n                    "PublicIpAddress": "{pip}",\n'
            '                    "State": {"Code": 16, "Name": "running"},\n'
            f'                    "SubnetId": "{sn}",\n                    "VpcId": "{v}",\n'
            f'                    "IamInstanceProfile": {{"Arn": "arn:aws:iam::{a}:instance-profile/{prof}", "Id": "{"AIPA" + g.alnum(17, _B32)}"}},\n'
            f'                    "SecurityGroups": [{{"GroupName": "{sgn}", "GroupId": "{sg}"}}],\n'
            f'                    "Tags": [{{"Key": "Name", "Value": "{nm}"}}]\n'
            "                }\n            ],\n"
            f'            "OwnerId": "{a}",\n            "ReservationId": "{g.hexid("r")}"\n        }}\n    ]\n}}')
    return text, [a, i, ami, k, sn, v, sg, prof, nm, ip, pip], ['"InstanceType": "m6i.large"', '"Name": "running"',
                                                               '"Tenancy": "default"']


def _v5_list_functions(g: Gen):
    a, f1, f2, role, t, r = g.account(), g.name("pms"), g.name("pms"), g.name("pms"), g.name(), g.region()
    text = (f"$ aws lambda list-functions --region {r} --query 'Functions[?starts_with(FunctionName, `{f1[:5]}`)]'\n"
            "[\n    {\n"
            f'        "FunctionName": "{f1}",\n        "FunctionArn": "arn:aws:lambda:{r}:{a}:function:{f1}",\n'
            '        "Runtime": "python3.12",\n'
            f'        "Role": "arn:aws:iam::{a}:role/service-role/{role}",\n        "Handler": "app.lambda_handler",\n'
            '        "CodeSize": 48213,\n        "Timeout": 30,\n        "MemorySize": 512,\n'
            f'        "Environment": {{"Variables": {{"TABLE_NAME": "{t}", "LOG_LEVEL": "INFO"}}}},\n'
            '        "Architectures": ["arm64"]\n    },\n    {\n'
            f'        "FunctionName": "{f2}",\n        "FunctionArn": "arn:aws:lambda:{r}:{a}:function:{f2}",\n'
            '        "Runtime": "nodejs20.x",\n        "PackageType": "Zip"\n    }\n]')
    return text, [a, f1, f2, role, t], ['"Runtime": "python3.12"', '"Handler": "app.lambda_handler"', '"LOG_LEVEL": "INFO"',
                                        '"Architectures": ["arm64"]']


def _v5_describe_db(g: Gen):
    a, d, r, sub, sg, uid = g.account(), g.name("pms"), g.region(), g.name("pms"), g.hexid("sg"), g.alnum(12, _LOWER_ALNUM)
    dbi = "db-" + g.alnum(26, _UPPER_ALNUM)
    text = ('{\n    "DBInstances": [\n        {\n'
            f'            "DBInstanceIdentifier": "{d}",\n            "DBInstanceClass": "db.r6g.large",\n'
            '            "Engine": "postgres",\n            "DBInstanceStatus": "available",\n'
            '            "MasterUsername": "postgres",\n'
            f'            "Endpoint": {{"Address": "{d}.{uid}.{r}.rds.amazonaws.com", "Port": 5432}},\n'
            f'            "VpcSecurityGroups": [{{"VpcSecurityGroupId": "{sg}", "Status": "active"}}],\n'
            f'            "DBSubnetGroup": {{"DBSubnetGroupName": "{sub}"}},\n'
            f'            "KmsKeyId": "arn:aws:kms:{r}:{a}:key/{_uuid(g)}",\n            "DbiResourceId": "{dbi}",\n'
            f'            "DBInstanceArn": "arn:aws:rds:{r}:{a}:db:{d}",\n            "MultiAZ": true\n'
            "        }\n    ]\n}")
    return text, [a, d, uid, sg, sub, dbi], ['"Engine": "postgres"', '"DBInstanceStatus": "available"',
                                            '"DBInstanceClass": "db.r6g.large"']


def _v5_bucket_policy(g: Gen):
    b, vpce, a, role = g.bucket(), g.hexid("vpce"), g.account(), g.name("pms")
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"], "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "AllowRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:role/{role}"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}
    text = f"$ aws s3api get-bucket-policy --bucket {b}\n" + json.dumps({"Policy": json.dumps(pol, separators=(",", ":"))}, indent=4)
    return text, [b, vpce, a, role], ["get-bucket-policy", "s3:GetObject", "aws:SourceVpce"]


def _v5_describe_stacks(g: Gen):
    a, st, r, api, b, t = g.account(), g.name("pms"), g.region(), g.alnum(10, _LOWER_ALNUM), g.bucket(), g.name()
    text = ('{\n    "Stacks": [\n        {\n'
            f'            "StackId": "arn:aws:cloudformation:{r}:{a}:stack/{st}/{_uuid(g)}",\n'
            f'            "StackName": "{st}",\n            "StackStatus": "UPDATE_COMPLETE",\n'
            '            "Outputs": [\n'
            f'                {{"OutputKey": "ApiUrl", "OutputValue": "https://{api}.execute-api.{r}.amazonaws.com/prod/", '
            f'"ExportName": "{st}-ApiUrl"}},\n'
            f'                {{"OutputKey": "UploadsBucketName", "OutputValue": "{b}"}},\n'
            f'                {{"OutputKey": "OrdersTableArn", "OutputValue": "arn:aws:dynamodb:{r}:{a}:table/{t}"}}\n'
            "            ]\n        }\n    ]\n}")
    return text, [a, st, api, b, t], ['"StackStatus": "UPDATE_COMPLETE"', '"OutputKey": "ApiUrl"',
                                      '"OutputKey": "UploadsBucketName"']


def _v5_ecr_images(g: Gen):
    a, repo, dig = g.account(), f"{g.name('ms')}/{g.name('ms')}", g.alnum(64, _HEX)
    text = (f"$ aws ecr describe-images --repository-name {repo} --image-ids imageTag=v1.14.2\n"
            '{\n    "imageDetails": [\n        {\n'
            f'            "registryId": "{a}",\n            "repositoryName": "{repo}",\n'
            f'            "imageDigest": "sha256:{dig}",\n            "imageTags": ["v1.14.2", "latest"],\n'
            '            "imageSizeInBytes": 91837421,\n            "imagePushedAt": "2024-06-02T16:20:11.000000+00:00",\n'
            '            "imageScanStatus": {"status": "COMPLETE"},\n'
            '            "imageManifestMediaType": "application/vnd.docker.distribution.manifest.v2+json"\n'
            "        }\n    ]\n}")
    return text, [a, repo], [f"sha256:{dig}", '"v1.14.2"', '"status": "COMPLETE"']


def _v5_list_roles(g: Gen):
    a, b, role, ro = g.account(), g.account(), g.name("pms"), _aroa(g)
    doc = quote(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{b}:root"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {
            "sts:ExternalId": "ci-deploy"}}}]}, separators=(",", ":")), safe="")
    text = ("<ListRolesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  <ListRolesResult>\n    <Roles>\n"
            f"      <member>\n        <Path>/</Path>\n        <RoleName>{role}</RoleName>\n        <RoleId>{ro}</RoleId>\n"
            f"        <Arn>arn:aws:iam::{a}:role/{role}</Arn>\n        <CreateDate>2023-11-20T09:00:00Z</CreateDate>\n"
            f"        <AssumeRolePolicyDocument>{doc}</AssumeRolePolicyDocument>\n"
            "        <MaxSessionDuration>3600</MaxSessionDuration>\n      </member>\n    </Roles>\n"
            "    <IsTruncated>false</IsTruncated>\n  </ListRolesResult>\n</ListRolesResponse>")
    return text, [a, b, role, ro], ["<MaxSessionDuration>3600</MaxSessionDuration>", "<IsTruncated>false</IsTruncated>"]


# config files an agent cats
def _v5_aws_config(g: Gen):
    a, b, d, role, prof = g.account(), g.account(), "d-" + g.alnum(10, _HEX), g.name("pms"), g.name("ms")
    text = ("$ cat ~/.aws/config\n[default]\nregion = eu-west-1\noutput = json\n\n"
            f"[profile {prof}-sso]\nsso_start_url = https://{d}.awsapps.com/start\nsso_region = us-east-1\n"
            f"sso_account_id = {a}\nsso_role_name = PowerUserAccess\nregion = eu-west-1\n\n"
            f"[profile {prof}-deploy]\nrole_arn = arn:aws:iam::{b}:role/{role}\nsource_profile = {prof}-sso\n"
            "role_session_name = ci\nduration_seconds = 3600")
    return text, [a, b, d, role], ["sso_region = us-east-1", "output = json", "duration_seconds = 3600"]


def _v5_kubeconfig(g: Gen):
    a, c, r, ep = g.account(), g.name("pms"), g.region(), g.alnum(32, "0123456789ABCDEF")
    arn = f"arn:aws:eks:{r}:{a}:cluster/{c}"
    text = ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Fo\n"
            f"    server: https://{ep}.gr7.{r}.eks.amazonaws.com\n  name: {arn}\ncontexts:\n- context:\n"
            f"    cluster: {arn}\n    user: {arn}\n  name: {arn}\ncurrent-context: {arn}\nkind: Config\nusers:\n"
            f"- name: {arn}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n"
            f"      - --region\n      - {r}\n      - eks\n      - get-token\n      - --cluster-name\n      - {c}\n"
            "      - --output\n      - json\n      command: aws")
    return text, [a, c, ep], ["apiVersion: client.authentication.k8s.io/v1beta1", "command: aws", "- get-token"]


def _v5_env_grep(g: Gen):
    k, s, tok, a, role = _asia(g), g.secret(), _session_token(g), g.account(), g.name("pms")
    text = ("$ env | grep -i aws\nAWS_REGION=eu-central-1\nAWS_DEFAULT_REGION=eu-central-1\n"
            f"AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_SESSION_TOKEN={tok}\n"
            f"AWS_ROLE_ARN=arn:aws:iam::{a}:role/{role}\n"
            "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\nAWS_STS_REGIONAL_ENDPOINTS=regional")
    return text, [k, s, tok, a, role], ["AWS_REGION=eu-central-1", "AWS_STS_REGIONAL_ENDPOINTS=regional",
                                        "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"]


def _v5_tfvars(g: Gen):
    a, v, s1, s2, d, b, z = (g.account(), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet"), g.name("pms"),
                             g.bucket(), "Z0" + g.alnum(18, _UPPER_ALNUM))
    text = ("# envs/prod.tfvars\n"
            f'account_id             = "{a}"\nenvironment            = "prod"\nvpc_id                 = "{v}"\n'
            f'private_subnet_ids     = ["{s1}", "{s2}"]\ndb_instance_identifier = "{d}"\n'
            f'artifacts_bucket       = "{b}"\nroute53_zone_id        = "{z}"\ninstance_type          = "t3.medium"\n'
            "enable_deletion_protection = true")
    return text, [a, v, s1, s2, d, b, z], ['environment            = "prod"', 'instance_type          = "t3.medium"',
                                           "enable_deletion_protection = true"]


def _v5_samconfig(g: Gen):
    st, b, a, repo, v, r = g.name("pms"), g.bucket(), g.account(), g.name("ms"), g.hexid("vpc"), g.region()
    text = ('version = 0.1\n[default.deploy.parameters]\n'
            f'stack_name = "{st}"\ns3_bucket = "{b}"\ns3_prefix = "{st}"\nregion = "{r}"\n'
            'confirm_changeset = true\ncapabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"\n'
            f'parameter_overrides = "Stage=\\"prod\\" VpcId=\\"{v}\\""\n'
            f'image_repositories = ["ApiFunction={a}.dkr.ecr.{r}.amazonaws.com/{repo}"]')
    return text, [st, b, a, repo, v], ["confirm_changeset = true", 'capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"']


def _v5_cdk_context(g: Gen):
    a, r, v, s1, s2, z = g.account(), g.region(), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet"), "Z0" + g.alnum(18, _UPPER_ALNUM)
    ctx = {f"availability-zones:account={a}:region={r}": [f"{r}a", f"{r}b", f"{r}c"],
           f"vpc-provider:account={a}:filter.vpc-id={v}:region={r}:returnAsymmetricSubnets=true": {
               "vpcId": v, "vpcCidrBlock": "10.40.0.0/16", "subnetGroups": [{"name": "Private", "type": "Private", "subnets": [
                   {"subnetId": s1, "cidr": "10.40.0.0/19", "availabilityZone": f"{r}a"},
                   {"subnetId": s2, "cidr": "10.40.32.0/19", "availabilityZone": f"{r}b"}]}]},
           f"hosted-zone:account={a}:domainName=internal.example.com:region={r}": {"Id": f"/hostedzone/{z}", "Name": "internal.example.com."}}
    return json.dumps(ctx, indent=2), [a, v, s1, s2, z], ["returnAsymmetricSubnets=true", '"type": "Private"']


def _v5_serverless(g: Gen):
    svc, b, a, role, t, api, r = g.name("ms"), g.bucket(), g.account(), g.name("pms"), g.name(), g.alnum(10, _LOWER_ALNUM), g.region()
    text = (f"service: {svc}\nframeworkVersion: '3'\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  stage: dev\n  region: {r}\n"
            f"  deploymentBucket:\n    name: {b}\n  iam:\n    role: arn:aws:iam::{a}:role/{role}\n  environment:\n"
            f"    ORDERS_TABLE: {t}\n\n$ npx serverless info --stage dev\nservice: {svc}\nstage: dev\nregion: {r}\n"
            f"stack: {svc}-dev\nendpoints:\n  GET - https://{api}.execute-api.{r}.amazonaws.com/dev/items\nfunctions:\n"
            f"  list: {svc}-dev-list")
    return text, [b, a, role, t, api], ["runtime: nodejs20.x", "frameworkVersion: '3'", "name: aws"]


def _v5_copilot(g: Gen):
    a, repo, b, sg, r = g.account(), g.name("ms"), g.bucket(), g.hexid("sg"), g.region()
    text = ("# copilot/api/manifest.yml\nname: api\ntype: Load Balanced Web Service\nhttp:\n  path: '/'\n  healthcheck: /healthz\n"
            f"image:\n  location: {a}.dkr.ecr.{r}.amazonaws.com/{repo}:v2\n  port: 8080\ncpu: 256\nmemory: 512\ncount: 2\n"
            f"variables:\n  UPLOADS_BUCKET: {b}\nnetwork:\n  vpc:\n    placement: private\n    security_groups: ['{sg}']")
    return text, [a, repo, b, sg], ["type: Load Balanced Web Service", "cpu: 256", "healthcheck: /healthz"]


def _v5_aws_exports(g: Gen):
    r = g.region()
    ipid, up, cid, gql, key, b = _uuid(g), _pool_id(g, r), g.alnum(26, _LOWER_ALNUM), g.alnum(26, _LOWER_ALNUM), "da2-" + g.alnum(26, _LOWER_ALNUM), g.name("ms") + f"{g.r.randint(10000, 99999)}-dev"
    text = ("/* eslint-disable */\n// WARNING: DO NOT EDIT. This file is automatically generated by AWS Amplify.\n\n"
            f'const awsmobile = {{\n    "aws_project_region": "{r}",\n    "aws_cognito_identity_pool_id": "{r}:{ipid}",\n'
            f'    "aws_cognito_region": "{r}",\n    "aws_user_pools_id": "{up}",\n    "aws_user_pools_web_client_id": "{cid}",\n'
            f'    "aws_appsync_graphqlEndpoint": "https://{gql}.appsync-api.{r}.amazonaws.com/graphql",\n'
            f'    "aws_appsync_region": "{r}",\n    "aws_appsync_authenticationType": "API_KEY",\n'
            f'    "aws_appsync_apiKey": "{key}",\n    "aws_user_files_s3_bucket": "{b}",\n'
            '    "oauth": {},\n    "aws_cognito_username_attributes": ["EMAIL"]\n};\n\nexport default awsmobile;')
    return text, [ipid, up, cid, gql, key, b], ['"aws_appsync_authenticationType": "API_KEY"', "export default awsmobile;",
                                                '["EMAIL"]']


def _v5_amplify_outputs(g: Gen):
    r = g.region()
    up, cid, ipid, b, gql = _pool_id(g, r), g.alnum(26, _LOWER_ALNUM), _uuid(g), f"amplify-{g.name('ms')}-{g.alnum(10, _LOWER_ALNUM)}", g.alnum(26, _LOWER_ALNUM)
    out = {"auth": {"user_pool_id": up, "aws_region": r, "user_pool_client_id": cid, "identity_pool_id": f"{r}:{ipid}",
                    "standard_required_attributes": ["email"], "password_policy": {"min_length": 8}},
           "storage": {"aws_region": r, "bucket_name": b},
           "data": {"url": f"https://{gql}.appsync-api.{r}.amazonaws.com/graphql", "default_authorization_type": "AMAZON_COGNITO_USER_POOLS"},
           "version": "1.3"}
    return json.dumps(out, indent=2), [up, cid, ipid, b, gql], ['"default_authorization_type": "AMAZON_COGNITO_USER_POOLS"',
                                                               '"min_length": 8', '"version": "1.3"']


def _v5_buildspec(g: Gen):
    a, repo, r, sec, b, p = g.account(), g.name("ms"), g.region(), g.name("ms"), g.bucket(), g.name("ms")
    text = ("version: 0.2\nenv:\n  variables:\n"
            f"    REPO_URI: {a}.dkr.ecr.{r}.amazonaws.com/{repo}\n  parameter-store:\n    DB_HOST: /prod/{p}/db-host\n"
            f"  secrets-manager:\n    NPM_TOKEN: arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{g.alnum(6, _MIXED_ALNUM)}:token\n"
            "phases:\n  install:\n    runtime-versions:\n      nodejs: 20\n  build:\n    commands:\n"
            "      - npm ci && npm run build\n      - docker build -t $REPO_URI:$CODEBUILD_RESOLVED_SOURCE_VERSION .\n"
            f"      - aws s3 cp build/report.html s3://{b}/reports/$CODEBUILD_BUILD_NUMBER/\n")
    return text, [a, repo, sec, b], ["version: 0.2", "$CODEBUILD_RESOLVED_SOURCE_VERSION", "nodejs: 20"]


def _v5_appspec(g: Gen):
    a, r, td, fn, cont = g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("ms")
    text = ("version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n"
            f'        TaskDefinition: "arn:aws:ecs:{r}:{a}:task-definition/{td}:42"\n        LoadBalancerInfo:\n'
            f'          ContainerName: "{cont}"\n          ContainerPort: 8080\nHooks:\n'
            f'  - BeforeAllowTraffic: "arn:aws:lambda:{r}:{a}:function:{fn}"\n')
    return text, [a, td, fn], ["Type: AWS::ECS::Service", "version: 0.0", "ContainerPort: 8080"]


def _v5_taskdef(g: Gen):
    a, r, fam, role, erole, repo, p, sec = (g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("pms"),
                                            g.name("ms"), g.name("ms"), g.name("ms"))
    td = {"family": fam, "taskRoleArn": f"arn:aws:iam::{a}:role/{role}", "executionRoleArn": f"arn:aws:iam::{a}:role/{erole}",
          "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024",
          "containerDefinitions": [{"name": "app", "image": f"{a}.dkr.ecr.{r}.amazonaws.com/{repo}:1.8.0", "essential": True,
                                    "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/{fam}",
                                                                                             "awslogs-region": r, "awslogs-stream-prefix": "ecs"}},
                                    "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:ssm:{r}:{a}:parameter/prod/{p}/db-password"},
                                                {"name": "API_KEY", "valueFrom": f"arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{g.alnum(6, _MIXED_ALNUM)}"}]}]}
    return json.dumps(td, indent=2), [a, fam, role, erole, repo, sec], ['"networkMode": "awsvpc"', '"logDriver": "awslogs"',
                                                                        '"awslogs-stream-prefix": "ecs"', '"FARGATE"']


def _v5_asl(g: Gen):
    a, r, fn, t, q, topic = g.account(), g.region(), g.name("pms"), g.name(), g.name("pms"), g.name("pms")
    asl = {"Comment": "order pipeline", "StartAt": "Validate", "States": {
        "Validate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST", "Payload.$": "$"}, "Next": "Save"},
        "Save": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                 "Parameters": {"TableName": t, "Item": {"pk": {"S.$": "$.orderId"}}}, "Next": "Enqueue"},
        "Enqueue": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": f"https://sqs.{r}.amazonaws.com/{a}/{q}", "MessageBody.$": "$"}, "Next": "Notify"},
        "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                   "Parameters": {"TopicArn": f"arn:aws:sns:{r}:{a}:{topic}", "Message.$": "$"}, "End": True}}}
    return json.dumps(asl, indent=2), [a, fn, t, q, topic], ['"arn:aws:states:::lambda:invoke"', '"arn:aws:states:::dynamodb:putItem"',
                                                             '"Type": "Task"', '"StartAt": "Validate"']


def _v5_eventbridge_targets(g: Gen):
    a, r, bus, rule, fn, dlq, role = g.account(), g.region(), g.name("ms"), g.name("pms"), g.name("pms"), g.name("pms"), g.name("pms")
    text = (f"$ aws events describe-rule --name {rule} --event-bus-name {bus}\n{{\n"
            f'    "Name": "{rule}",\n    "Arn": "arn:aws:events:{r}:{a}:rule/{bus}/{rule}",\n'
            '    "EventPattern": "{\\"source\\":[\\"aws.ec2\\"],\\"detail-type\\":[\\"EC2 Instance State-change Notification\\"]}",\n'
            f'    "State": "ENABLED",\n    "EventBusName": "{bus}"\n}}\n'
            f"$ aws events list-targets-by-rule --rule {rule} --event-bus-name {bus}\n{{\n    \"Targets\": [{{\n"
            f'        "Id": "1",\n        "Arn": "arn:aws:lambda:{r}:{a}:function:{fn}",\n'
            f'        "RoleArn": "arn:aws:iam::{a}:role/{role}",\n'
            f'        "DeadLetterConfig": {{"Arn": "arn:aws:sqs:{r}:{a}:{dlq}"}}\n    }}]\n}}')
    return text, [a, bus, rule, fn, dlq, role], ['"State": "ENABLED"', "EC2 Instance State-change Notification"]


def _v5_iam_conditions(g: Gen):
    a, o, vpce, r, q, topic = g.account(), g.org(), g.hexid("vpce"), g.region(), g.name("pms"), g.name("pms")
    pol = {"Version": "2012-10-17", "Statement": [{"Sid": "AllowSnsFromOrg", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
           "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{r}:{a}:{q}",
           "Condition": {"StringEquals": {"aws:SourceAccount": a, "aws:PrincipalOrgID": o, "aws:SourceVpce": vpce},
                         "ArnLike": {"aws:SourceArn": f"arn:aws:sns:{r}:{a}:{topic}"}}}]}
    return json.dumps(pol, indent=2), [a, o, vpce, q, topic], ['"aws:SourceAccount"', '"aws:PrincipalOrgID"', '"sqs:SendMessage"',
                                                               '"Service": "sns.amazonaws.com"']


def _v5_kms_policy(g: Gen):
    a, b, role, r = g.account(), g.account(), g.name("pms"), g.region()
    pol = {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow use via S3 from the data account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b}:role/{role}"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{r}.amazonaws.com", "kms:CallerAccount": b}}}]}
    return json.dumps(pol, indent=4), [a, b, role], ['"Sid": "Enable IAM User Permissions"', '"kms:ViaService"', '"kms:GenerateDataKey*"']


def _v5_scp(g: Gen):
    role, pid, root, ou = g.name("pms"), "p-" + g.alnum(8, _LOWER_ALNUM), "r-" + g.alnum(4, _LOWER_ALNUM), f"ou-{g.alnum(4, _LOWER_ALNUM)}-{g.alnum(8, _LOWER_ALNUM)}"
    pol = {"Version": "2012-10-17", "Statement": [{"Sid": "DenyOutsideApprovedRegions", "Effect": "Deny", "NotAction": ["iam:*", "organizations:*", "sts:*"],
           "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                                          "ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{role}"]}}}]}
    text = (json.dumps(pol, indent=2) + f"\n\n$ aws organizations attach-policy --policy-id {pid} --target-id {ou}\n"
            f"$ aws organizations list-roots --query 'Roots[0].Id' --output text\n{root}")
    return text, [role, pid, ou, root], ['"aws:RequestedRegion"', '"Effect": "Deny"', '"organizations:*"']


# observability and incident tools
def _v5_datadog(g: Gen):
    i, a, asg, r, nm = g.iid(), g.account(), g.name("pms"), g.region(), g.name("pms")
    text = (f"[Triggered on {{host:{i}}}] CPU above 90% on {nm}\n"
            f"avg(last_10m):avg:aws.ec2.cpuutilization{{host:{i}}} > 90\n"
            f"Tags: aws_account:{a}, region:{r}, autoscaling_group:{asg}, name:{nm}, availability-zone:{r}a, instance-type:c6g.xlarge\n"
            "Notified: @pagerduty-platform @slack-ops-alerts")
    return text, [i, a, asg, nm], ["aws.ec2.cpuutilization", "instance-type:c6g.xlarge", "@pagerduty-platform"]


def _v5_pagerduty(g: Gen):
    d, a, c = g.name("pms"), g.account(), g.name("pms")
    text = (f"PagerDuty: Incident #48213 TRIGGERED — [P1] RDS FreeStorageSpace low on dbinstanceidentifier:{d}\n"
            f"Service: Platform Databases | Urgency: high\nDetails: aws_account:{a} dbclusteridentifier:{c} engine:aurora-postgresql "
            "FreeStorageSpace=4.1 GiB (threshold 10 GiB)\nAcknowledge: https://acme.pagerduty.com/incidents/Q2K7X1ZP9M")
    return text, [d, a, c], ["#48213", "FreeStorageSpace", "engine:aurora-postgresql", "Urgency: high"]


def _v5_opsgenie(g: Gen):
    al, a, lb, h, r = g.name("pms"), g.account(), g.name("pms"), g.alnum(16, _HEX), g.region()
    body = {"message": f"ALARM: \"{al}\" in {r}", "alias": al, "priority": "P2", "source": "Amazon CloudWatch",
            "details": {"AlarmName": al, "AWSAccountId": a, "NewStateValue": "ALARM", "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": f"[{{name=LoadBalancer, value=app/{lb}/{h}}}]"}, "tags": ["aws", "prod"]}
    return json.dumps(body, indent=2), [al, a, lb, h], ['"priority": "P2"', '"MetricName": "HTTPCode_Target_5XX_Count"',
                                                         '"source": "Amazon CloudWatch"']


def _v5_cw_email(g: Gen):
    al, a, q, topic = g.name("pms"), g.account(), g.name("pms"), g.name("ms")
    text = (f"Subject: ALARM: \"{al}\" in US East (N. Virginia)\n\nYou are receiving this email because your Amazon CloudWatch Alarm "
            f"\"{al}\" in the US East (N. Virginia) region has entered the ALARM state, because \"Threshold Crossed: 1 out of the last "
            "1 datapoints [5412.0 (03/06/24 07:40:00)] was greater than the threshold (1000.0)\" at \"Monday 03 June, 2024 07:45:12 UTC\".\n\n"
            f"Alarm Details:\n- Name:                       {al}\n- AWS Account:                {a}\n"
            f"- Alarm Arn:                  arn:aws:cloudwatch:us-east-1:{a}:alarm:{al}\n\nMonitored Metric:\n"
            f"- MetricNamespace:            AWS/SQS\n- MetricName:                 ApproximateNumberOfMessagesVisible\n"
            f"- Dimensions:                 [QueueName = {q}]\n\nState Change Actions:\n- ALARM: [arn:aws:sns:us-east-1:{a}:{topic}]")
    return text, [al, a, q, topic], ["ApproximateNumberOfMessagesVisible", "US East (N. Virginia)", "AWS/SQS"]


def _v5_health(g: Gen):
    a, i1, i2, r = g.account(), g.iid(), g.iid(), g.region()
    ev = {"version": "0", "id": _uuid(g), "detail-type": "AWS Health Event", "source": "aws.health", "account": a,
          "time": "2024-06-03T06:00:00Z", "region": r, "resources": [i1, i2],
          "detail": {"eventArn": f"arn:aws:health:{r}::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_{g.alnum(32, _HEX)}",
                     "service": "EC2", "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", "eventTypeCategory": "scheduledChange",
                     "startTime": "Mon, 17 Jun 2024 00:00:00 GMT", "affectedEntities": [{"entityValue": i1}, {"entityValue": i2}]}}
    return json.dumps(ev, indent=2), [a, i1, i2], ['"eventTypeCategory": "scheduledChange"', '"source": "aws.health"', '"service": "EC2"']


def _v5_guardduty(g: Gen):
    a, r, det, fid, i, v, sn, ip, pip = (g.account(), g.region(), g.alnum(32, _HEX), g.alnum(32, _HEX), g.iid(), g.hexid("vpc"),
                                         g.hexid("subnet"), _ip10(g), _pub_ip(g))
    f = {"SchemaVersion": "2.0", "AccountId": a, "Region": r, "Id": fid,
         "Arn": f"arn:aws:guardduty:{r}:{a}:detector/{det}/finding/{fid}", "Type": "UnauthorizedAccess:EC2/SSHBruteForce",
         "Resource": {"ResourceType": "Instance", "InstanceDetails": {"InstanceId": i, "InstanceType": "t3.micro",
                      "NetworkInterfaces": [{"PrivateIpAddress": ip, "PublicIp": pip, "PublicDnsName": _ec2_pub_dns(pip, r),
                                             "SubnetId": sn, "VpcId": v}]}},
         "Service": {"ServiceName": "guardduty", "DetectorId": det, "Action": {"ActionType": "NETWORK_CONNECTION"}, "Count": 412},
         "Severity": 2, "Title": f"{i} is performing SSH brute force attacks."}
    return json.dumps(f, indent=2), [a, det, fid, i, v, sn, ip, pip], ['"Type": "UnauthorizedAccess:EC2/SSHBruteForce"',
                                                                       '"ActionType": "NETWORK_CONNECTION"', '"ServiceName": "guardduty"']


def _v5_securityhub(g: Gen):
    a, r, b = g.account(), g.region(), g.bucket()
    f = {"SchemaVersion": "2018-10-08", "Id": f"arn:aws:securityhub:{r}:{a}:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/{_uuid(g)}",
         "ProductArn": f"arn:aws:securityhub:{r}::product/aws/securityhub", "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.8",
         "AwsAccountId": a, "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices"],
         "Title": "S3.8 S3 general purpose buckets should block public access", "Severity": {"Label": "HIGH"},
         "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::{b}", "Partition": "aws", "Region": r}],
         "Compliance": {"Status": "FAILED"}, "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE"}
    return json.dumps(f, indent=2), [a, b], ['"GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.8"',
                                            '"Type": "AwsS3Bucket"', '"Status": "FAILED"']


def _v5_config_eval(g: Gen):
    sg1, sg2, a, r = g.hexid("sg"), g.hexid("sg"), g.account(), g.region()
    text = ("$ aws configservice get-compliance-details-by-config-rule --config-rule-name restricted-ssh --compliance-types NON_COMPLIANT\n"
            '{\n    "EvaluationResults": [\n')
    rows = []
    for sg in (sg1, sg2):
        rows.append('        {\n            "EvaluationResultIdentifier": {\n                "EvaluationResultQualifier": {\n'
                    '                    "ConfigRuleName": "restricted-ssh",\n                    "ResourceType": "AWS::EC2::SecurityGroup",\n'
                    f'                    "ResourceId": "{sg}"\n                }}\n            }},\n'
                    '            "ComplianceType": "NON_COMPLIANT",\n            "ResultRecordedTime": "2024-06-03T08:11:02.412000+00:00"\n        }')
    text += ",\n".join(rows) + f"\n    ]\n}}\n# account {a}, {r}"
    return text, [sg1, sg2, a], ['"ResourceType": "AWS::EC2::SecurityGroup"', '"ComplianceType": "NON_COMPLIANT"']


def _v5_trusted_advisor(g: Gen):
    i1, i2, n1, n2, r = g.iid(), g.iid(), g.name("pms"), g.name("pms"), g.region()
    text = ("Trusted Advisor — Low Utilization Amazon EC2 Instances (export)\n"
            "Status,Region/AZ,Instance ID,Instance Name,Instance Type,Estimated Monthly Savings,Day 1,Day 2,14-Day Average CPU Utilization\n"
            f"Warning,{r}a,{i1},{n1},m5.2xlarge,$276.48,2.1%,1.9%,2.0%\n"
            f"Warning,{r}c,{i2},{n2},r5.large,$90.72,0.4%,0.6%,0.5%")
    return text, [i1, i2, n1, n2], ["m5.2xlarge", "r5.large", "$276.48", "14-Day Average CPU Utilization"]


def _v5_cur(g: Gen):
    p, u, i, b, fn, r = g.account(), g.account(), g.iid(), g.bucket(), g.name("pms"), g.region()
    text = ("identity/LineItemId,bill/PayerAccountId,lineItem/UsageAccountId,lineItem/ProductCode,lineItem/UsageType,lineItem/ResourceId,lineItem/UnblendedCost\n"
            f"{g.alnum(52, _LOWER_ALNUM)},{p},{u},AmazonEC2,USE1-BoxUsage:m5.large,{i},2.304\n"
            f"{g.alnum(52, _LOWER_ALNUM)},{p},{u},AmazonS3,USE1-TimedStorage-ByteHrs,{b},0.8812\n"
            f"{g.alnum(52, _LOWER_ALNUM)},{p},{u},AWSLambda,USE1-Lambda-GB-Second,arn:aws:lambda:{r}:{u}:function:{fn},0.0131")
    return text, [p, u, i, b, fn], ["USE1-BoxUsage:m5.large", "AmazonEC2", "USE1-Lambda-GB-Second"]


def _v5_athena(g: Gen):
    a, role, u, r = g.account(), g.name("pms"), g.person().replace(".", "-"), g.region()
    qid = _uuid(g)
    text = ("SELECT useridentity.arn, eventname, count(*) AS n FROM cloudtrail_logs WHERE eventname LIKE 'Delete%' GROUP BY 1, 2 ORDER BY n DESC;\n\n"
            f"Query ID: {qid}  Run time: 4.31 sec  Data scanned: 1.22 GB\n"
            "| # | arn | eventname | n |\n|---|-----|-----------|---|\n"
            f"| 1 | arn:aws:sts::{a}:assumed-role/{role}/terraform | DeleteSecurityGroup | 17 |\n"
            f"| 2 | arn:aws:iam::{a}:user/{u} | DeleteObject | 9 |\n\n"
            f"Results: s3://aws-athena-query-results-{a}-{r}/Unsaved/2024/06/03/{qid}.csv")
    return text, [a, role, u], ["DeleteSecurityGroup", "Data scanned: 1.22 GB", "Run time: 4.31 sec"]


# endpoints in connection strings
def _v5_redshift(g: Gen):
    c, uid, r, a, u = g.name("pms"), g.alnum(12, _LOWER_ALNUM), g.region(), g.account(), g.name("p_m_s")
    text = (f"jdbc:redshift://{c}.{uid}.{r}.redshift.amazonaws.com:5439/analytics?ssl=true\n"
            f"jdbc:redshift:iam://{c}.{uid}.{r}.redshift.amazonaws.com:5439/analytics?DbUser={u}&AutoCreate=false\n"
            f"-- or serverless: default-workgroup.{a}.{r}.redshift-serverless.amazonaws.com:5439/dev")
    return text, [c, uid, a], ["ssl=true", "AutoCreate=false"]


def _v5_rds_urls(g: Gen):
    c, uid, r, d = g.name("pms"), g.alnum(12, _LOWER_ALNUM), g.region(), g.name("pms")
    text = (f"DATABASE_URL=postgres://app_rw:s3cr3t-pw@{c}.cluster-{uid}.{r}.rds.amazonaws.com:5432/orders?sslmode=require\n"
            f"READER_URL=postgres://app_ro:s3cr3t-pw@{c}.cluster-ro-{uid}.{r}.rds.amazonaws.com:5432/orders\n"
            f"LEGACY_MYSQL=mysql://admin@{d}.{uid}.{r}.rds.amazonaws.com:3306/legacy")
    return text, [c, uid, d], ["sslmode=require", ":5432/orders", ":3306/legacy"]


def _v5_elasticache(g: Gen):
    c, uid, m = g.name("pms"), g.alnum(6, _LOWER_ALNUM), g.name("ms")
    short = g.pick(["use1", "euw1", "usw2", "apse2"])
    text = (f"REDIS_URL=rediss://master.{c}.{uid}.{short}.cache.amazonaws.com:6379/0\n"
            f"REDIS_CLUSTER_ENDPOINT=clustercfg.{c}.{uid}.{short}.cache.amazonaws.com:6379\n"
            f"MEMCACHED=${{MEMCACHED:-{m}.{uid}.cfg.{short}.cache.amazonaws.com:11211}}")
    return text, [c, uid, m], [":6379/0", ":11211"]


def _v5_opensearch(g: Gen):
    d, h, r = g.name("ms"), g.alnum(26, _LOWER_ALNUM), g.region()
    text = (f"$ curl -s -u admin:*** 'https://search-{d}-{h}.{r}.es.amazonaws.com/_cat/indices?v'\n"
            "health status index              uuid                   pri rep docs.count\n"
            "green  open   logs-2024.06.03    kX3p_9QbS2u7dQm1a0Lz1g   1   1     481233\n"
            "yellow open   traces-2024.06.03  H8dn2WvWQp6o1J8nB1xV3A   1   1      92341")
    return text, [d, h], ["_cat/indices?v", "logs-2024.06.03", "docs.count"]


def _v5_msk(g: Gen):
    c, uid, r, a = g.name("pms"), g.alnum(6, _LOWER_ALNUM), g.region(), g.account()
    brokers = ",".join(f"b-{n}.{c}.{uid}.c{n + 1}.kafka.{r}.amazonaws.com:9098" for n in (1, 2, 3))
    text = (f"$ aws kafka get-bootstrap-brokers --cluster-arn arn:aws:kafka:{r}:{a}:cluster/{c}/{_uuid(g)}-{g.r.randint(2, 25)}\n"
            f'{{\n    "BootstrapBrokerStringSaslIam": "{brokers}"\n}}')
    return text, [c, uid, a], ['"BootstrapBrokerStringSaslIam"', "get-bootstrap-brokers"]


def _v5_endpoints(g: Gen):
    fu, api, dom, cid, r = g.alnum(32, _LOWER_ALNUM), g.alnum(10, _LOWER_ALNUM), g.name("ms"), g.alnum(26, _LOWER_ALNUM), g.region()
    text = (f"Function URL: https://{fu}.lambda-url.{r}.on.aws/\n"
            f"API: https://{api}.execute-api.{r}.amazonaws.com/v1/orders  (curl -i → HTTP/2 200)\n"
            f"Login: https://{dom}.auth.{r}.amazoncognito.com/login?client_id={cid}&response_type=code&scope=openid&redirect_uri=https://app.example.com/callback")
    return text, [fu, api, dom, cid], ["response_type=code", "scope=openid", "HTTP/2 200"]


# code and config in more languages and styles
def _v5_dotnet(g: Gen):
    b1, b2, q, a, _r = g.bucket(), g.bucket(), g.name("pms"), g.account(), g.region()
    text = ('// appsettings.Production.json\n{\n  "AWS": { "Profile": "default", "Region": "eu-west-1" },\n'
            f'  "Storage": {{ "BucketName": "{b1}" }},\n  "Queues": {{ "Orders": "https://sqs.eu-west-1.amazonaws.com/{a}/{q}" }}\n}}\n\n'
            "// ReportUploader.cs\nusing var s3 = new AmazonS3Client(RegionEndpoint.EUWest1);\n"
            "await s3.PutObjectAsync(new PutObjectRequest\n{\n"
            f'    BucketName = "{b2}",\n    Key = $"reports/{{DateTime.UtcNow:yyyy-MM-dd}}.pdf",\n    FilePath = path\n}});')
    return text, [b1, b2, q, a], ["RegionEndpoint.EUWest1", "new PutObjectRequest", '"Region": "eu-west-1"']


def _v5_php(g: Gen):
    k, s, b = g.akid(), g.secret(), g.bucket()
    text = ("<?php\nuse Aws\\S3\\S3Client;\n\n$s3 = new S3Client([\n    'version' => 'latest',\n    'region'  => 'us-east-2',\n"
            f"    'credentials' => [\n        'key'    => '{k}',\n        'secret' => '{s}',\n    ],\n]);\n"
            f"$s3->putObject([\n    'Bucket' => '{b}',\n    'Key'    => 'invoices/' . $invoice->id . '.pdf',\n"
            "    'Body'   => fopen($path, 'r'),\n]);")
    return text, [k, s, b], ["'version' => 'latest'", "use Aws\\S3\\S3Client;"]


def _v5_ruby(g: Gen):
    b, t, a, q = g.bucket(), g.name(), g.account(), g.name("pms")
    text = ("require 'aws-sdk-s3'\nrequire 'aws-sdk-dynamodb'\n\ns3 = Aws::S3::Client.new(region: 'us-west-2')\n"
            f"obj = s3.get_object(bucket: '{b}', key: 'exports/latest.csv')\n"
            f"ddb = Aws::DynamoDB::Client.new\nddb.put_item(table_name: '{t}', item: {{ 'pk' => id }})\n"
            f"Aws::SQS::Client.new.send_message(queue_url: 'https://sqs.us-west-2.amazonaws.com/{a}/{q}', message_body: body)")
    return text, [b, t, a, q], ["Aws::S3::Client.new(region: 'us-west-2')", "require 'aws-sdk-s3'"]


def _v5_kotlin(g: Gen):
    b, a, topic, r = g.bucket(), g.account(), g.name("pms"), g.region()
    text = ("object AwsNames {\n"
            f'    const val TOPIC_ARN = "arn:aws:sns:{r}:{a}:{topic}"\n    const val MEDIA_BUCKET = "{b}"\n}}\n\n'
            f'suspend fun download(key: String) = S3Client {{ region = "{r}" }}.use {{ s3 ->\n'
            "    s3.getObject(GetObjectRequest { bucket = AwsNames.MEDIA_BUCKET; this.key = key }) { it.body?.toByteArray() }\n}")
    return text, [b, a, topic], ["GetObjectRequest {", "suspend fun download(key: String)"]


def _v5_swift(g: Gen):
    ipid, b, up = _uuid(g), g.bucket(), _pool_id(g, "us-east-1")
    text = ("import AWSCore\nimport AWSS3\n\nlet credentialsProvider = AWSCognitoCredentialsProvider(\n"
            f'    regionType: .USEast1,\n    identityPoolId: "us-east-1:{ipid}"\n)\n'
            "let configuration = AWSServiceConfiguration(region: .USEast1, credentialsProvider: credentialsProvider)\n"
            f'let uploadBucket = "{b}"\n// user pool: {up}')
    return text, [ipid, b, up], ["regionType: .USEast1", "import AWSS3"]


def _v5_bash_vars(g: Gen):
    b, dist, a, role = g.bucket(), "E" + g.alnum(13, _UPPER_ALNUM), g.account(), g.name("pms")
    text = ("#!/bin/bash\nset -eu\n"
            f'BUCKET="{b}"\nDISTRIBUTION_ID={dist}\nDEPLOY_ROLE="arn:aws:iam::{a}:role/{role}"\n\n'
            'creds=$(aws sts assume-role --role-arn "$DEPLOY_ROLE" --role-session-name web-deploy)\n'
            'aws s3 sync ./public "s3://$BUCKET/" --delete --cache-control max-age=300\n'
            'aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION_ID" --paths "/*"')
    return text, [b, dist, a, role], ['"s3://$BUCKET/"', "set -eu", "--cache-control max-age=300"]


def _v5_makefile(g: Gen):
    a, r, st, repo = g.account(), g.region(), g.name("pms"), g.name("ms")
    text = (f"AWS_ACCOUNT ?= {a}\nAWS_REGION  ?= {r}\nECR  := $(AWS_ACCOUNT).dkr.ecr.$(AWS_REGION).amazonaws.com\n"
            f"IMAGE := $(ECR)/{repo}\nSTACK := {st}\n\n.PHONY: deploy\ndeploy: push\n"
            "\taws cloudformation deploy --stack-name $(STACK) --template-file cfn.yaml --parameter-overrides Image=$(IMAGE):$(GIT_SHA)\n")
    return text, [a, st, repo], [".PHONY: deploy", "$(AWS_ACCOUNT).dkr.ecr.$(AWS_REGION).amazonaws.com", "--template-file cfn.yaml"]


def _v5_ansible_ops(g: Gen):
    i1, i2, d, lb, sn = g.iid(), g.iid(), g.name("pms"), g.name("pms"), g.hexid("subnet")
    text = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Stop the batch workers\n      amazon.aws.ec2_instance:\n"
            f"        instance_ids:\n          - {i1}\n          - {i2}\n        state: stopped\n        region: eu-west-1\n\n"
            f"    - name: Snapshot before upgrade\n      amazon.aws.rds_instance_snapshot:\n        db_instance_identifier: {d}\n"
            f"        db_snapshot_identifier: {d}-pre-upgrade\n\n    - name: ALB\n      amazon.aws.elb_application_lb:\n"
            f"        name: {lb}\n        subnets: [{sn}]\n        state: present")
    return text, [i1, i2, d, lb, sn], ["state: stopped", "gather_facts: false", "amazon.aws.rds_instance_snapshot"]


def _v5_helm_irsa(g: Gen):
    a, role, b, q, r = g.account(), g.name("pms"), g.bucket(), g.name("pms"), g.region()
    text = ("# values-prod.yaml\nreplicaCount: 3\nserviceAccount:\n  create: true\n  name: worker\n  annotations:\n"
            f"    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n    eks.amazonaws.com/sts-regional-endpoints: \"true\"\n"
            f"config:\n  s3Bucket: {b}\n  sqsQueueUrl: https://sqs.{r}.amazonaws.com/{a}/{q}\nresources:\n  limits:\n    memory: 512Mi")
    return text, [a, role, b, q], ["replicaCount: 3", "eks.amazonaws.com/role-arn", "memory: 512Mi"]


def _v5_crossplane(g: Gen):
    b, t, r = g.bucket(), g.name(), g.region()
    text = ("apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata:\n"
            f"  name: {b}\n  annotations:\n    crossplane.io/external-name: {b}\nspec:\n  forProvider:\n    region: {r}\n"
            "  providerConfigRef:\n    name: default\n---\napiVersion: dynamodb.services.k8s.aws/v1alpha1\nkind: Table\nmetadata:\n"
            f"  name: orders\nspec:\n  tableName: {t}\n  billingMode: PAY_PER_REQUEST\n  keySchema:\n    - attributeName: pk\n      keyType: HASH")
    return text, [b, t], ["apiVersion: s3.aws.upbound.io/v1beta1", "billingMode: PAY_PER_REQUEST", "keyType: HASH"]


def _v5_compose(g: Gen):
    b, a, q, r = g.bucket(), g.account(), g.name("pms"), g.region()
    text = ("services:\n  localstack:\n    image: localstack/localstack:3.4\n    ports: [\"4566:4566\"]\n"
            "  app-local:\n    environment:\n      - AWS_ENDPOINT_URL=http://localstack:4566\n      - AWS_ACCESS_KEY_ID=test\n"
            "      - AWS_SECRET_ACCESS_KEY=test\n      - S3_BUCKET=local-bucket\n  app-staging:\n    environment:\n"
            f"      - AWS_REGION={r}\n      - S3_BUCKET={b}\n      - SQS_QUEUE_URL=https://sqs.{r}.amazonaws.com/{a}/{q}")
    return text, [b, a, q], ["http://localstack:4566", "AWS_ACCESS_KEY_ID=test", "localstack/localstack:3.4"]


def _v5_spring(g: Gen):
    k, s, q, b, c, uid, r = g.akid(), g.secret(), g.name("pms"), g.bucket(), g.name("pms"), g.alnum(12, _LOWER_ALNUM), g.region()
    text = ("spring:\n  datasource:\n"
            f"    url: jdbc:postgresql://{c}.cluster-{uid}.{r}.rds.amazonaws.com:5432/app\n    hikari:\n      maximum-pool-size: 20\n"
            f"cloud:\n  aws:\n    credentials:\n      access-key: {k}\n      secret-key: {s}\n    region:\n      static: {r}\n"
            f"    stack:\n      auto: false\napp:\n  queue-name: {q}\n  bucket: {b}")
    return text, [k, s, q, b, c, uid], ["auto: false", "maximum-pool-size: 20"]


def _v5_django(g: Gen):
    b, dom, k, s = g.bucket(), "d" + g.alnum(13, _LOWER_ALNUM), g.akid(), g.secret()
    text = ("# settings/production.py\nDEFAULT_FILE_STORAGE = 'storages.backends.s3boto3.S3Boto3Storage'\n"
            f"AWS_STORAGE_BUCKET_NAME = '{b}'\nAWS_S3_REGION_NAME = 'eu-central-1'\nAWS_S3_CUSTOM_DOMAIN = '{dom}.cloudfront.net'\n"
            f"AWS_ACCESS_KEY_ID = os.environ.get('AWS_ACCESS_KEY_ID', '{k}')\nAWS_SECRET_ACCESS_KEY = os.environ.get('AWS_SECRET_ACCESS_KEY', '{s}')\n"
            "AWS_DEFAULT_ACL = None\nAWS_QUERYSTRING_AUTH = False")
    return text, [b, dom, k, s], ["'storages.backends.s3boto3.S3Boto3Storage'", "AWS_QUERYSTRING_AUTH = False", "AWS_DEFAULT_ACL = None"]


def _v5_node_env(g: Gen):
    r = g.region()
    up, cid, b, t, a, topic = _pool_id(g, r), g.alnum(26, _LOWER_ALNUM), g.bucket(), g.name(), g.account(), g.name("pms")
    text = (f"NODE_ENV=production\nPORT=3000\nAWS_REGION={r}\nCOGNITO_USER_POOL_ID={up}\nCOGNITO_CLIENT_ID={cid}\n"
            f"UPLOADS_BUCKET={b}\nDYNAMODB_TABLE={t}\nSNS_TOPIC_ARN=arn:aws:sns:{r}:{a}:{topic}\nLOG_LEVEL=debug")
    return text, [up, cid, b, t, a, topic], ["NODE_ENV=production", "PORT=3000", "LOG_LEVEL=debug"]


def _v5_terragrunt(g: Gen):
    b, t, a, role = f"{g.name('ms')}-tfstate-{g.account()}", g.name("pms"), g.account(), g.name("pms")
    text = ('remote_state {\n  backend = "s3"\n  generate = {\n    path      = "backend.tf"\n    if_exists = "overwrite_terragrunt"\n  }\n'
            f'  config = {{\n    bucket         = "{b}"\n    key            = "${{path_relative_to_include()}}/terraform.tfstate"\n'
            f'    region         = "eu-west-1"\n    encrypt        = true\n    dynamodb_table = "{t}"\n'
            f'    role_arn       = "arn:aws:iam::{a}:role/{role}"\n  }}\n}}')
    return text, [b, t, a, role], ['backend = "s3"', '"${path_relative_to_include()}/terraform.tfstate"', 'if_exists = "overwrite_terragrunt"']


def _v5_tf_variables(g: Gen):
    v, a, b, r, kid = g.hexid("vpc"), g.account(), g.account(), g.region(), _uuid(g)
    text = ('variable "vpc_id" {\n  description = "VPC the service runs in"\n  type        = string\n'
            f'  default     = "{v}"\n}}\n\nvariable "allowed_account_ids" {{\n  type    = list(string)\n  default = ["{a}", "{b}"]\n}}\n\n'
            f'variable "kms_key_arn" {{\n  type    = string\n  default = "arn:aws:kms:{r}:{a}:key/{kid}"\n}}')
    return text, [v, a, b, kid], ["type        = string", "type    = list(string)"]


# human text: issues, reviews, Q&A, runbooks, chat, mail, markdown decorations, five more languages
def _v5_gh_issue(g: Gen):
    a, fn, b, r, prof = g.account(), g.name("pms"), g.bucket(), g.region(), g.name("ms")
    text = ("### Describe the bug\nAfter upgrading to v3.2.1 the exporter fails with `AccessDenied` when the Lambda "
            f"`arn:aws:lambda:{r}:{a}:function:{fn}` reads `s3://{b}/exports/2024-06-03.parquet`.\n\n"
            f"### Steps to reproduce\n1. Deploy with `--profile {prof}`\n2. Run `aws s3 ls s3://{b}/exports/`\n3. See error\n\n"
            "### Expected behavior\nThe object is read.\n\n### Environment\n- OS: Ubuntu 22.04\n- Node: 20.11.1")
    return text, [a, fn, b], ["### Describe the bug", "v3.2.1", "Ubuntu 22.04", "20.11.1"]


def _v5_pr_review(g: Gen):
    t, a, role, p = g.name(), g.account(), g.name("pms"), g.name("ms")
    text = (f"> `TABLE_NAME = \"{t}\"`\n\n**nit:** this hardcodes the prod table; read it from SSM (`/app/{p}/table-name`) instead.\n"
            f"Also the role → `arn:aws:iam::{a}:role/{role}` is the *prod* one — please don't use it in tests.\n\n"
            "Otherwise LGTM :+1: (approved pending CI)")
    return text, [t, a, role], ["**nit:**", "LGTM :+1:"]


def _v5_stackoverflow(g: Gen):
    fn, a, r, b, role = g.name("pms"), g.account(), g.region(), g.bucket(), g.name("pms")
    text = (f"**AccessDenied when Lambda reads from S3 bucket in same account**\n\nI'm getting AccessDenied when my Lambda "
            f"(arn:aws:lambda:{r}:{a}:function:{fn}) reads from bucket {b}. The execution role is **{role}** and it has this policy:\n\n"
            f'```json\n{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{b}/*"}}\n```\n\n'
            "What am I missing? **Edit:** the objects are encrypted with SSE-KMS.")
    return text, [fn, a, b, role], ["**Edit:**", "SSE-KMS", '"Action": "s3:GetObject"']


def _v5_runbook(g: Gen):
    asg, lb, h, i, d, a = g.name("pms"), g.name("pms"), g.alnum(16, _HEX), g.iid(), g.name("pms"), g.account()
    text = (f"## Failover for `{d}`\n\n| Resource | ID | Notes |\n|---|---|---|\n| ASG | {asg} | min 2 |\n"
            f"| ALB | app/{lb}/{h} | internal |\n| Bastion | `{i}` | SSM only |\n| Account | {a} | prod |\n\n"
            f"## Steps\n1. Connect: `aws ssm start-session --target {i}`\n"
            f"2. Promote: `aws rds failover-db-cluster --db-cluster-identifier {d}`\n3. Watch the ALB 5xx graph.")
    return text, [asg, lb, h, i, d, a], ["## Steps", "| Resource | ID | Notes |", "min 2"]


def _v5_slack_thread(g: Gen):
    lb, tg, h, i1, i2 = g.name("pms"), g.name("pms"), g.alnum(16, _HEX), g.iid(), g.iid()
    text = (f"@oncall :rotating_light: prod api 5xx → ALB `{lb}` has 0 healthy targets\n"
            "> @m.kowalski: which TG?\n"
            f":point_right: targetgroup/{tg}/{h} → {i1}, {i2} (both `unhealthy`, Target.ResponseCodeMismatch)\n"
            ":white_check_mark: fixed by rolling back to v2.31.0, thx @j.nakamura")
    return text, [lb, tg, h, i1, i2], [":rotating_light:", "@oncall", "Target.ResponseCodeMismatch", "v2.31.0"]


def _v5_email(g: Gen):
    b, a, snap, d = g.bucket(), g.account(), g.name("pms"), g.name("pms")
    text = (f"Subject: [Action required] Decommission of bucket '{b}' on 2024-07-01\n"
            "From: Cloud Platform <platform@example.com>\n\nHi team,\n\nOn 2024-07-01 we will delete the following resources:\n"
            f"  1) S3 bucket \"{b}\" (account {a})\n  2) RDS snapshot rds:{snap}-2024-06-01-03-10\n"
            f"  3) RDS instance {d} (stopped since March)\n\nReply by Friday if you still need any of them.\n\nThanks,\nPlatform")
    return text, [b, a, snap, d], ["2024-07-01", "platform@example.com", "[Action required]"]


def _v5_markdown_decor(g: Gen):
    b1, b2, t, q, a, r = g.bucket(), g.bucket(), g.name(), g.name("pms"), g.account(), g.region()
    text = (f"# Migration of {b1}\n\n- source: [{b1}](https://s3.console.aws.amazon.com/s3/buckets/{b1}?region={r}&tab=objects)\n"
            f"- target: _{b2}_ (in ‘{a}’)\n- table “{t}” => «{q}» (queue)\n- old -> new: `{b1}` -> `{b2}`\n"
            "- owner: **@platform-team**")
    return text, [b1, b2, t, q, a], ["**@platform-team**", "tab=objects"]


def _v5_italian(g: Gen):
    b, a, fn = g.bucket(), g.account(), g.name("pms")
    text = (f"Ciao a tutti, il bucket S3 «{b}» nell'account {a} è pieno di oggetti duplicati; la funzione Lambda {fn} "
            "li scrive due volte. Qualcuno può controllare entro venerdì?")
    return text, [b, a, fn], ["entro venerdì", "Ciao a tutti"]


def _v5_dutch(g: Gen):
    fn, a, t = g.name("pms"), g.account(), g.name()
    text = (f"Hoi allemaal, de Lambda-functie {fn} in account {a} faalt sinds vannacht met een timeout bij het schrijven "
            f"naar DynamoDB-tabel {t}. Wie kijkt er even mee?")
    return text, [fn, a, t], ["sinds vannacht", "Wie kijkt er even mee?"]


def _v5_polish(g: Gen):
    q, a, i = g.name("pms"), g.account(), g.iid()
    text = (f"Cześć, kolejka SQS {q} na koncie {a} ma ponad 50 tys. wiadomości, a instancja EC2 {i} "
            "przestała je przetwarzać o 03:15. Czy ktoś może zrestartować workera?")
    return text, [q, a, i], ["50 tys. wiadomości", "03:15"]


def _v5_chinese(g: Gen):
    a, b, i, c = g.account(), g.bucket(), g.iid(), g.name("pms")
    text = (f"紧急：生产账号 {a} 里的 S3 存储桶 {b} 被误删了，EC2 实例 {i} 还在往里写日志。"
            f"EKS 集群「{c}」的 Pod 也报 NoSuchBucket 错误，请尽快处理。")
    return text, [a, b, i, c], ["NoSuchBucket"]


def _v5_korean(g: Gen):
    b, t, a, role = g.bucket(), g.name(), g.account(), g.name("pms")
    text = (f"S3 버킷 {b} 과 DynamoDB 테이블 {t} 에 대한 권한을 확인해 주세요. 계정은 {a} 이고 "
            f"역할은 arn:aws:iam::{a}:role/{role} 입니다. 오류: AccessDenied")
    return text, [b, t, a, role], ["AccessDenied"]


# negatives: must come through unchanged
def _v5_neg_packages(g: Gen):
    sha, dig = g.alnum(40, _HEX), g.alnum(64, _HEX)
    text = ("$ npm ls @aws-sdk/client-s3\napp@2.3.0 /srv/app\n└── @aws-sdk/client-s3@3.592.0\n"
            "$ kubectl get rs -n web\nNAME                DESIRED   CURRENT   READY   AGE\nweb-7d9f8b6c5       3         3         3       2d\n"
            "pod/web-7d9f8b6c5-x2x9z   1/1   Running\n"
            f"resolved https://registry.npmjs.org/@aws-sdk/client-s3/-/client-s3-3.592.0.tgz; github.com/aws/aws-sdk-go-v2 v1.30.3; "
            f"commit {sha}; image ghcr.io/acme/web@sha256:{dig}")
    return text, [], ["@aws-sdk/client-s3@3.592.0", "web-7d9f8b6c5-x2x9z", "web-7d9f8b6c5 ", "https://registry.npmjs.org/@aws-sdk/client-s3/-/client-s3-3.592.0.tgz",
                      "github.com/aws/aws-sdk-go-v2 v1.30.3", sha, f"sha256:{dig}"]


def _v5_neg_aws_words(g: Gen):
    text = ("The role needs s3:GetObject and ec2:DescribeInstances; attach AmazonS3ReadOnlyAccess "
            "(arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess) and arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole. "
            "Resource types: AWS::S3::Bucket, AWS::Lambda::Function. The stack went UPDATE_ROLLBACK_COMPLETE in us-west-2b on "
            "m7g.xlarge; the API answered HTTP/1.1 403 Forbidden for DescribeInstances.")
    return text, [], ["s3:GetObject", "ec2:DescribeInstances", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                      "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "AWS::S3::Bucket", "AWS::Lambda::Function",
                      "UPDATE_ROLLBACK_COMPLETE", "us-west-2b", "m7g.xlarge", "HTTP/1.1 403 Forbidden"]


def _v5_neg_ids(g: Gen):
    rid, tid, sid = _uuid(g), g.alnum(32, _HEX), g.alnum(16, _HEX)
    text = (f'{{"level":"error","ts":"2024-06-03T08:41:12.118Z","request_id":"{rid}","trace_id":"{tid}","span_id":"{sid}",'
            '"msg":"upstream timeout","status":504,"duration_ms":30001,"version":"4.12.0-rc.2"}')
    return text, [], [rid, tid, sid, '"status":504', '"version":"4.12.0-rc.2"', "2024-06-03T08:41:12.118Z"]


def _v5_neg_trust(g: Gen):
    pol = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
           "Action": "sts:AssumeRole"}]}
    text = ("Trust policy:\n" + json.dumps(pol, indent=2) + "\nManaged policies: arn:aws:iam::aws:policy/ReadOnlyAccess, "
            "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess; Resource \"*\" with logs:CreateLogGroup, logs:PutLogEvents.")
    return text, [], ['"lambda.amazonaws.com"', '"states.amazonaws.com"', "arn:aws:iam::aws:policy/ReadOnlyAccess",
                      "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "logs:CreateLogGroup", '"sts:AssumeRole"']


VARIANTS_5: list[Template] = [
    # aws CLI JSON/XML an agent's Bash tool returns (#0-#6)
    _v5_describe_instances, _v5_list_functions, _v5_describe_db, _v5_bucket_policy, _v5_describe_stacks, _v5_ecr_images,
    _v5_list_roles,
    # config files and deployment descriptors (#7-#24)
    _v5_aws_config, _v5_kubeconfig, _v5_env_grep, _v5_tfvars, _v5_samconfig, _v5_cdk_context, _v5_serverless, _v5_copilot,
    _v5_aws_exports, _v5_amplify_outputs, _v5_buildspec, _v5_appspec, _v5_taskdef, _v5_asl, _v5_eventbridge_targets,
    _v5_iam_conditions, _v5_kms_policy, _v5_scp,
    # observability and incident tools (#25-#35)
    _v5_datadog, _v5_pagerduty, _v5_opsgenie, _v5_cw_email, _v5_health, _v5_guardduty, _v5_securityhub, _v5_config_eval,
    _v5_trusted_advisor, _v5_cur, _v5_athena,
    # endpoints in connection strings (#36-#41)
    _v5_redshift, _v5_rds_urls, _v5_elasticache, _v5_opensearch, _v5_msk, _v5_endpoints,
    # code and config: C#, PHP, Ruby, Kotlin, Swift, bash, Makefile, Ansible, Helm, Crossplane/ACK, compose, Spring,
    # Django, .env, terragrunt, Terraform variables (#42-#57)
    _v5_dotnet, _v5_php, _v5_ruby, _v5_kotlin, _v5_swift, _v5_bash_vars, _v5_makefile, _v5_ansible_ops, _v5_helm_irsa,
    _v5_crossplane, _v5_compose, _v5_spring, _v5_django, _v5_node_env, _v5_terragrunt, _v5_tf_variables,
    # human text (#58-#69)
    _v5_gh_issue, _v5_pr_review, _v5_stackoverflow, _v5_runbook, _v5_slack_thread, _v5_email, _v5_markdown_decor,
    _v5_italian, _v5_dutch, _v5_polish, _v5_chinese, _v5_korean,
    # negatives (#70-#73)
    _v5_neg_packages, _v5_neg_aws_words, _v5_neg_ids, _v5_neg_trust,
]


# --- variants-6: a sixth held-out list (session 8), written by a helper that never read the engine or its
# packs: the same identifiers as coding agents and terminals present them. Claude Code Read-tool output
# (right-aligned line number + U+2192 arrow) over Terraform, .env, CloudFormation / k8s / GitHub Actions /
# compose YAML, task-definition / IAM JSON, Python / TypeScript / Go, ~/.aws/credentials, fluentd and nginx;
# cat -n, grep -n, ripgrep (plain and --heading); unified diffs, git log -p, git blame, diffs of .env and JSON;
# ANSI colour around and inside values (terraform plan, eksctl, aws --color on, jq -C, rg --color, cdk);
# backslash-continued and 80-column hard-wrapped lines, truncated table cells with "…", less and tmux copies
# with trailing blanks; agent transcripts (tool_use inputs, tool_result arrays, tool errors, JS v3 stack
# traces, botocore and aws --debug logs, retry logs, Cursor / aider transcripts); raw HTTP (SigV4
# Authorization, presigned URLs, curl -v, HAR, STS XML); identifiers inside percent-encoding (once and
# twice), markdown fences, HTML, quoted CSV, SAML XML, Athena SQL, heredocs and for-loops, JSON in YAML;
# negatives (line numbers, arrows, ANSI codes, diff markers, repo paths, SHAs, SigV4 scope words, request
# IDs, content hashes, prompts); 62 templates. Measured as it came out (report seed 13, 5 per template):
# 82.8 % recall (text and JSON alike), 62.9 % pass, 100 % kept, 23 failing templates (all leak a value, none
# changes a must-keep value); seed 7 (1 and 5 per template): 82.8 %, 62 of 62 must-keep cases kept. Of the 23,
# five leak only because of the presentation (ANSI colour around or inside a value: #26-#28, #30; the Read
# tool's arrow prefix: #12) and one more in part (#29); the others leak the same with it stripped. Never tuned
# to. -------------------------------------------------------------------------------------------------------
_ESC = "\x1b"


def _arrow(text: str, start: int = 1) -> str:
    """Claude Code's Read tool: a right-aligned line number, U+2192, then the line."""
    return "\n".join(f"{n:>6}\u2192{line}" for n, line in enumerate(text.split("\n"), start))


def _catn(text: str, start: int = 1) -> str:
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(text.split("\n"), start))


def _c(code: str, s: str) -> str:
    return f"{_ESC}[{code}m{s}{_ESC}[0m"


def _sha(g: Gen, n: int = 40) -> str:
    return g.alnum(n, _HEX)


def _queue_url(r: str, a: str, q: str) -> str:
    return f"https://sqs.{r}.amazonaws.com/{a}/{q}"


# Claude Code Read tool output
def _v6_read_tf(g: Gen):
    b, t, a, sb, kms = g.bucket(), g.name("pms"), g.account(), g.bucket(), _uuid(g)
    r = g.region()
    src = ('terraform {\n  backend "s3" {\n'
           f'    bucket         = "{sb}"\n    key            = "prod/terraform.tfstate"\n    region         = "{r}"\n'
           f'    dynamodb_table = "{t}"\n  }}\n}}\n\nprovider "aws" {{\n  region              = "{r}"\n'
           f'  allowed_account_ids = ["{a}"]\n}}\n\nresource "aws_s3_bucket" "logs" {{\n  bucket = "{b}"\n}}\n\n'
           'resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {\n  bucket = aws_s3_bucket.logs.id\n'
           f'  rule {{\n    apply_server_side_encryption_by_default {{\n      kms_master_key_id = "arn:aws:kms:{r}:{a}:key/{kms}"\n'
           '      sse_algorithm     = "aws:kms"\n    }\n  }\n}')
    return _arrow(src), [b, t, a, sb, kms], ['     1\u2192terraform {', '    15\u2192resource "aws_s3_bucket" "logs" {',
                                            "aws_s3_bucket.logs.id", '"aws:kms"', "prod/terraform.tfstate"]


def _v6_read_env(g: Gen):
    k, s, b, a, q, r, t = g.akid(), g.secret(), g.bucket(), g.account(), g.name("pms"), g.region(), g.name()
    src = ("# copied from 1Password, do not commit\nNODE_ENV=production\nPORT=3000\n"
           f"AWS_REGION={r}\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nS3_UPLOAD_BUCKET={b}\n"
           f"SQS_QUEUE_URL={_queue_url(r, a, q)}\nDYNAMO_TABLE={t}\nLOG_LEVEL=debug")
    return _arrow(src, 1), [k, s, b, a, q, t], ["NODE_ENV=production", "     3\u2192PORT=3000", "LOG_LEVEL=debug"]


def _v6_read_cfn(g: Gen):
    b, v, s1, s2, a, r, st = g.bucket(), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet"), g.account(), g.region(), g.name("pms")
    src = ("AWSTemplateFormatVersion: '2010-09-09'\nDescription: ingest pipeline\nParameters:\n  VpcId:\n"
           f"    Type: AWS::EC2::VPC::Id\n    Default: {v}\n  SubnetIds:\n    Type: List<AWS::EC2::Subnet::Id>\n"
           f"    Default: {s1},{s2}\nResources:\n  RawBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n"
           f"      BucketName: {b}\n      NotificationConfiguration:\n        QueueConfigurations:\n"
           f"          - Event: s3:ObjectCreated:*\n            Queue: arn:aws:sqs:{r}:{a}:{st}-raw-events\n"
           f"Outputs:\n  BucketArn:\n    Value: !GetAtt RawBucket.Arn\n    Export:\n      Name: {st}-RawBucketArn")
    return _arrow(src, 1), [b, v, s1, s2, a, st], ["AWS::EC2::VPC::Id", "     1\u2192AWSTemplateFormatVersion: '2010-09-09'",
                                                 "s3:ObjectCreated:*", "!GetAtt RawBucket.Arn"]


def _v6_read_k8s(g: Gen):
    a, role, b, c, r, ns = g.account(), g.name("pms"), g.bucket(), g.name("pms"), g.region(), g.pick(["payments", "ingest", "web"])
    src = ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: exporter\n"
           f"  namespace: {ns}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n"
           "    eks.amazonaws.com/sts-regional-endpoints: \"true\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
           f"  name: exporter-config\ndata:\n  EXPORT_BUCKET: {b}\n  CLUSTER_NAME: {c}\n  AWS_REGION: {r}")
    return _arrow(src, 1), [a, role, b, c], ["kind: ServiceAccount", "eks.amazonaws.com/role-arn:", "     2\u2192kind: ServiceAccount",
                                           "eks.amazonaws.com/sts-regional-endpoints"]


def _v6_read_gha(g: Gen):
    a, role, r, repo, cl, svc = g.account(), g.name("pms"), g.region(), g.name("ms"), g.name("pms"), g.name("pms")
    src = ("name: deploy\non:\n  push:\n    branches: [main]\npermissions:\n  id-token: write\n  contents: read\njobs:\n"
           "  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
           "      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n"
           f"          role-to-assume: arn:aws:iam::{a}:role/{role}\n          aws-region: {r}\n"
           f"      - run: docker push {a}.dkr.ecr.{r}.amazonaws.com/{repo}:${{{{ github.sha }}}}\n"
           f"      - run: aws ecs update-service --cluster {cl} --service {svc} --force-new-deployment")
    return _arrow(src, 1), [a, role, repo, cl, svc], ["aws-actions/configure-aws-credentials@v4", "actions/checkout@v4",
                                                      "${{ github.sha }}", "    10\u2192    runs-on: ubuntu-latest"]


def _v6_read_compose(g: Gen):
    k, s, t, b, r = g.akid(), g.secret(), g.name(), g.bucket(), g.region()
    src = ("services:\n  api:\n    build: .\n    ports:\n      - \"8080:8080\"\n    environment:\n"
           f"      - AWS_ACCESS_KEY_ID={k}\n      - AWS_SECRET_ACCESS_KEY={s}\n      - AWS_DEFAULT_REGION={r}\n"
           f"      - ORDERS_TABLE={t}\n      - MEDIA_BUCKET={b}\n  redis:\n    image: redis:7.2-alpine")
    return _arrow(src, 12), [k, s, t, b], ["redis:7.2-alpine", '"8080:8080"', "    12\u2192services:"]


def _v6_read_taskdef(g: Gen):
    a, fam, repo, r, role, lg, sec = g.account(), g.name("pms"), g.name("ms"), g.region(), g.name("pms"), g.name("ms"), g.name("ms")
    td = {"family": fam, "executionRoleArn": f"arn:aws:iam::{a}:role/{role}", "networkMode": "awsvpc",
          "containerDefinitions": [{"name": "app", "image": f"{a}.dkr.ecr.{r}.amazonaws.com/{repo}:1.8.0",
                                    "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                                    "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"arn:aws:secretsmanager:{r}:{a}:secret:{sec}-AbCd12"}],
                                    "logConfiguration": {"logDriver": "awslogs", "options": {
                                        "awslogs-group": f"/ecs/{lg}", "awslogs-region": r, "awslogs-stream-prefix": "app"}}}],
          "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024"}
    return _arrow(json.dumps(td, indent=2), 1), [a, fam, repo, role, lg, sec], ['"networkMode": "awsvpc"', '"logDriver": "awslogs"',
                                                                            '"FARGATE"', '     1\u2192{']


def _v6_read_iam_json(g: Gen):
    a, b, t, r, k = g.account(), g.bucket(), g.name(), g.region(), _uuid(g)
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadUploads", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]},
        {"Sid": "Orders", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:{r}:{a}:table/{t}/index/*"},
        {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:{r}:{a}:key/{k}"}]}
    text = "Read(infra/policies/app-policy.json)\n  \u23bf  Read 24 lines\n" + _arrow(json.dumps(pol, indent=2), 1)
    return text, [a, b, t, k], ['"dynamodb:Query"', '"kms:Decrypt"', '"Version": "2012-10-17"', "infra/policies/app-policy.json"]


def _v6_read_python(g: Gen):
    b, q, a, r, t, fn = g.bucket(), g.name("pms"), g.account(), g.region(), g.name(), g.name("pms")
    src = ("import boto3\n\n"
           f'BUCKET = "{b}"\nQUEUE_URL = "{_queue_url(r, a, q)}"\n'
           f'TABLE = boto3.resource("dynamodb", region_name="{r}").Table("{t}")\n\n\ndef handler(event, context):\n'
           '    s3 = boto3.client("s3")\n    s3.put_object(Bucket=BUCKET, Key=event["key"], Body=b"...")\n'
           f'    boto3.client("lambda").invoke(FunctionName="{fn}", InvocationType="Event")')
    return _arrow(src, 40), [b, q, a, t, fn], ["import boto3", "    40\u2192import boto3", 'InvocationType="Event"',
                                             "def handler(event, context):"]


def _v6_read_ts(g: Gen):
    api, r, fn, up, cid, a = g.alnum(10, _LOWER_ALNUM), g.region(), g.name("pms"), g.alnum(9, _MIXED_ALNUM), g.alnum(26, _LOWER_ALNUM), g.account()
    pool = f"{r}_{up}"
    src = ("// src/config.ts\nexport const config = {\n"
           f"  apiBaseUrl: 'https://{api}.execute-api.{r}.amazonaws.com/prod',\n"
           f"  exportFunction: 'arn:aws:lambda:{r}:{a}:function:{fn}',\n"
           f"  userPoolId: '{pool}',\n  userPoolClientId: '{cid}',\n  region: '{r}',\n}} as const;")
    return _arrow(src, 1), [api, fn, a, pool, cid], ["export const config = {", "} as const;", "     1\u2192// src/config.ts"]


def _v6_read_go(g: Gen):
    c, st, a, r, b = g.name("pms"), g.name("pms"), g.account(), g.region(), g.bucket()
    src = ("package infra\n\nconst (\n"
           f'\tClusterName   = "{c}"\n\tStreamARN     = "arn:aws:kinesis:{r}:{a}:stream/{st}"\n'
           f'\tArchiveBucket = "{b}"\n)\n\nfunc Region() string {{ return "{r}" }}')
    return _arrow(src, 1), [c, st, a, b], ["package infra", "func Region() string {", "     1\u2192package infra"]


def _v6_read_credentials(g: Gen):
    k1, s1, k2, s2, tok = g.akid(), g.secret(), _asia(g), g.secret(), _session_token(g)
    p = g.name("ms")
    src = (f"[default]\naws_access_key_id = {k1}\naws_secret_access_key = {s1}\n\n[{p}]\n"
           f"aws_access_key_id = {k2}\naws_secret_access_key = {s2}\naws_session_token = {tok}\n")
    text = "\u23fa Read(~/.aws/credentials)\n  \u23bf  Read 9 lines\n\n" + _arrow(src, 1)
    return text, [k1, s1, k2, s2, tok], ["     1\u2192[default]", "Read(~/.aws/credentials)"]


def _v6_read_fluentd(g: Gen):
    b, k, s, lg, r, a, role = g.bucket(), g.akid(), g.secret(), g.name("ms"), g.region(), g.account(), g.name("pms")
    src = ("<match app.**>\n  @type s3\n"
           f"  aws_key_id {k}\n  aws_sec_key {s}\n  s3_bucket {b}\n  s3_region {r}\n"
           "  path logs/%Y/%m/%d/\n  <buffer time>\n    timekey 3600\n  </buffer>\n</match>\n"
           "<match audit.**>\n  @type cloudwatch_logs\n"
           f"  log_group_name /app/{lg}\n  log_stream_name audit\n  region {r}\n"
           f"  role_arn arn:aws:iam::{a}:role/{role}\n</match>")
    return _arrow(src, 1), [b, k, s, lg, a, role], ["@type cloudwatch_logs", "path logs/%Y/%m/%d/", "timekey 3600"]


def _v6_read_nginx(g: Gen):
    lb, n, r, b, cf = g.name("pms"), str(g.r.randint(100000000, 2099999999)), g.region(), g.bucket(), g.alnum(14, _LOWER_ALNUM)
    alb = f"internal-{lb}-{n}.{r}.elb.amazonaws.com"
    src = ("upstream api {\n" f"    server {alb}:443;\n" "    keepalive 32;\n}\n\nserver {\n    listen 443 ssl;\n"
           "    location /api/ {\n        proxy_pass https://api;\n    }\n    location /static/ {\n"
           f"        proxy_pass https://{b}.s3.{r}.amazonaws.com/;\n    }}\n    location /img/ {{\n"
           f"        return 302 https://{cf}.cloudfront.net$request_uri;\n    }}\n}}")
    return _arrow(src, 1), [lb, n, b, cf], ["keepalive 32;", "listen 443 ssl;", "$request_uri", "proxy_pass https://api;"]


# cat -n, grep -n, ripgrep
def _v6_catn(g: Gen):
    a, v, sn, d, b = g.account(), g.hexid("vpc"), g.hexid("subnet"), g.name("pms"), g.bucket()
    src = (f'account_id   = "{a}"\nvpc_id       = "{v}"\nsubnet_id    = "{sn}"\ndb_identifier = "{d}"\n'
           f'state_bucket = "{b}"\ninstance_type = "r6g.large"')
    return "$ cat -n envs/prod/terraform.tfvars\n" + _catn(src), [a, v, sn, d, b], [
        '     6\tinstance_type = "r6g.large"', "envs/prod/terraform.tfvars"]


def _v6_grep_n(g: Gen):
    b1, b2, b3, a = g.bucket(), g.bucket(), g.bucket(), g.account()
    text = ('$ grep -rn "bucket" infra/ src/\n'
            f'infra/modules/storage/main.tf:12:  bucket = "{b1}"\n'
            f'infra/modules/storage/main.tf:31:  bucket = "{b2}"\n'
            f'infra/envs/prod/backend.tf:3:    bucket = "{b3}"\n'
            f'src/config.ts:7:export const UPLOAD_BUCKET = "{b1}";\n'
            f'src/jobs/export.py:88:    s3.upload_file(path, "{b2}", key)  # account {a}\n'
            "infra/modules/storage/variables.tf:4:variable \"bucket_prefix\" {")
    return text, [b1, b2, b3, a], ["infra/modules/storage/main.tf:12:", "src/config.ts:7:", "infra/envs/prod/backend.tf:3:",
                                   'variable "bucket_prefix" {']


def _v6_rg_heading(g: Gen):
    t, q, a, r, fn = g.name(), g.name("pms"), g.account(), g.region(), g.name("pms")
    text = ("$ rg -n 'TABLE|QUEUE|FUNCTION' src\n"
            f"src/config.ts\n7:export const TABLE = \"{t}\";\n8:export const QUEUE_URL = \"{_queue_url(r, a, q)}\";\n\n"
            f"src/handlers/notify.ts\n23:    FunctionName: '{fn}',\n41:  // FUNCTION retries: 2\n")
    return text, [t, q, a, fn], ["src/handlers/notify.ts", "41:  // FUNCTION retries: 2", "src/config.ts\n7:export const TABLE"]


def _v6_grep_accounts(g: Gen):
    a, b, c, role = g.account(), g.account(), g.account(), g.name("pms")
    text = ("$ git grep -n -E '[0-9]{12}'\n"
            f'accounts.yaml:2:  prod: "{a}"\naccounts.yaml:3:  staging: "{b}"\naccounts.yaml:4:  sandbox: "{c}"\n'
            f"infra/iam.tf:57:    identifiers = [\"arn:aws:iam::{b}:role/{role}\"]\n"
            f"README.md:19:Ask #platform for access to {a} (prod).")
    return text, [a, b, c, role], ["accounts.yaml:2:", "infra/iam.tf:57:", "README.md:19:", "[0-9]{12}"]


# unified diffs, git log -p, git blame
def _v6_diff_tf(g: Gen):
    old, new, a, t = g.bucket(), g.bucket(), g.account(), g.name("pms")
    text = ("diff --git a/infra/modules/storage/main.tf b/infra/modules/storage/main.tf\n"
            f"index {_sha(g, 7)}..{_sha(g, 7)} 100644\n--- a/infra/modules/storage/main.tf\n+++ b/infra/modules/storage/main.tf\n"
            "@@ -3,7 +3,7 @@ resource \"aws_s3_bucket\" \"exports\" {\n"
            f'-  bucket = "{old}"\n+  bucket = "{new}"\n   tags = {{\n     Owner = "data-platform"\n   }}\n'
            "@@ -40,6 +40,7 @@\n"
            f' resource "aws_dynamodb_table" "locks" {{\n-  name = "{t}"\n+  name = "{t}-v2"\n'
            f'+  # owned by account {a}\n   billing_mode = "PAY_PER_REQUEST"')
    return text, [old, new, a, t], ["@@ -3,7 +3,7 @@", "@@ -40,6 +40,7 @@", "--- a/infra/modules/storage/main.tf",
                                    'billing_mode = "PAY_PER_REQUEST"', 'Owner = "data-platform"']


def _v6_diff_env(g: Gen):
    k1, k2, s1, s2, q, a, r = g.akid(), g.akid(), g.secret(), g.secret(), g.name("pms"), g.account(), g.region()
    text = ("$ diff -u .env.staging .env\n--- .env.staging\t2024-05-30 10:02:11.000000000 +0200\n"
            "+++ .env\t2024-06-03 09:14:40.000000000 +0200\n@@ -1,5 +1,5 @@\n NODE_ENV=production\n"
            f"-AWS_ACCESS_KEY_ID={k1}\n-AWS_SECRET_ACCESS_KEY={s1}\n+AWS_ACCESS_KEY_ID={k2}\n+AWS_SECRET_ACCESS_KEY={s2}\n"
            f" QUEUE_URL={_queue_url(r, a, q)}")
    return text, [k1, k2, s1, s2, q, a], ["@@ -1,5 +1,5 @@", " NODE_ENV=production", "--- .env.staging",
                                          "2024-06-03 09:14:40.000000000 +0200"]


def _v6_git_log_p(g: Gen):
    sha, a, b, role, role2 = _sha(g), g.account(), g.account(), g.name("pms"), g.name("pms")
    text = (f"commit {sha}\nAuthor: {g.person()} <dev@example.com>\nDate:   Mon Jun 3 09:12:44 2024 +0200\n\n"
            "    ci: deploy from the new account\n\ndiff --git a/.github/workflows/deploy.yml b/.github/workflows/deploy.yml\n"
            "--- a/.github/workflows/deploy.yml\n+++ b/.github/workflows/deploy.yml\n@@ -18,7 +18,7 @@ jobs:\n"
            "       - uses: aws-actions/configure-aws-credentials@v4\n         with:\n"
            f"-          role-to-assume: arn:aws:iam::{a}:role/{role}\n+          role-to-assume: arn:aws:iam::{b}:role/{role2}\n"
            "           aws-region: eu-west-1")
    return text, [a, b, role, role2], [f"commit {sha}", "@@ -18,7 +18,7 @@ jobs:", "Date:   Mon Jun 3 09:12:44 2024 +0200",
                                       "aws-actions/configure-aws-credentials@v4"]


def _v6_git_blame(g: Gen):
    s1, s2, q, a, r, t, who = _sha(g, 8), _sha(g, 8), g.name("pms"), g.account(), g.region(), g.name(), g.person()
    text = ("$ git blame -L 10,13 src/settings.py\n"
            f"{s1} ({who:<12} 2024-02-11 14:03:55 +0100 10) AWS_REGION = \"{r}\"\n"
            f"{s1} ({who:<12} 2024-02-11 14:03:55 +0100 11) QUEUE_URL = \"{_queue_url(r, a, q)}\"\n"
            f"{s2} (d.alvarez    2024-05-29 18:40:02 +0200 12) TABLE_NAME = \"{t}\"\n"
            f"{s2} (d.alvarez    2024-05-29 18:40:02 +0200 13) RETRIES = 3")
    return text, [q, a, t], [s1, s2, "2024-05-29 18:40:02 +0200 13) RETRIES = 3", "src/settings.py"]


def _v6_diff_taskdef(g: Gen):
    a, b, r, repo, role = g.account(), g.account(), g.region(), g.name("ms"), g.name("pms")
    text = ("@@ -4,11 +4,11 @@\n   \"containerDefinitions\": [\n     {\n       \"name\": \"web\",\n"
            f"-      \"image\": \"{a}.dkr.ecr.{r}.amazonaws.com/{repo}:2.3.0\",\n"
            f"+      \"image\": \"{b}.dkr.ecr.{r}.amazonaws.com/{repo}:2.4.0\",\n"
            "       \"essential\": true,\n"
            f"-  \"taskRoleArn\": \"arn:aws:iam::{a}:role/{role}\",\n+  \"taskRoleArn\": \"arn:aws:iam::{b}:role/{role}\",")
    return text, [a, b, repo, role], ["@@ -4,11 +4,11 @@", '"essential": true,', '"name": "web",']


def _v6_diff_k8s_sa(g: Gen):
    a, role1, role2, c = g.account(), g.name("pms"), g.name("pms"), g.name("pms")
    text = ("--- a/k8s/overlays/prod/serviceaccount.yaml\n+++ b/k8s/overlays/prod/serviceaccount.yaml\n@@ -5,5 +5,6 @@ metadata:\n"
            "   annotations:\n"
            f"-    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role1}\n"
            f"+    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role2}\n"
            f"+    # cluster: {c}\n")
    return text, [a, role1, role2, c], ["@@ -5,5 +5,6 @@ metadata:", "k8s/overlays/prod/serviceaccount.yaml", "   annotations:"]


# ANSI colour
def _v6_tf_plan_ansi(g: Gen):
    b, i, a, r, sg = g.bucket(), g.iid(), g.account(), g.region(), g.hexid("sg")
    text = (f"Terraform will perform the following actions:\n\n  {_c('1', '# aws_s3_bucket.exports')} will be created\n"
            f"  {_c('32', '+')} resource \"aws_s3_bucket\" \"exports\" {{\n"
            f"      {_c('32', '+')} arn    = (known after apply)\n      {_c('32', '+')} bucket = \"{b}\"\n    }}\n\n"
            f"  {_c('1', '# aws_instance.bastion')} will be updated in-place\n"
            f"  {_c('33', '~')} resource \"aws_instance\" \"bastion\" {{\n        id  = \"{i}\"\n"
            f"      {_c('33', '~')} vpc_security_group_ids = [\n          {_c('32', '+')} \"{sg}\",\n        ]\n"
            f"        # (owner {a}, {r})\n    }}\n\n{_ESC}[1mPlan:{_ESC}[0m 1 to add, 1 to change, 0 to destroy.")
    return text, [b, i, a, sg], ["(known after apply)", f"{_ESC}[1mPlan:{_ESC}[0m 1 to add, 1 to change, 0 to destroy.",
                                 _c('1', '# aws_s3_bucket.exports')]


def _v6_eksctl_ansi(g: Gen):
    c, r, a, ng = g.name("pms"), g.region(), g.account(), g.name("ms")
    info = f"[{_c('36', 'ℹ')}]"
    text = (f"2024-06-03 10:11:12 {info}  eksctl version 0.180.0\n"
            f"2024-06-03 10:11:12 {info}  using region {r}\n"
            f"2024-06-03 10:11:13 {info}  nodegroup \"{ng}\" will use \"\" [AmazonLinux2/1.29]\n"
            f"2024-06-03 10:11:14 {info}  building cluster stack \"eksctl-{c}-cluster\"\n"
            f"2024-06-03 10:24:51 [{_c('32', '✔')}]  EKS cluster \"{_c('1', c)}\" in \"{r}\" region is ready\n"
            f"2024-06-03 10:24:52 [{_c('32', '✔')}]  saved kubeconfig as \"/home/dev/.kube/config\" (arn:aws:eks:{r}:{a}:cluster/{c})")
    return text, [c, a, ng], ["eksctl version 0.180.0", "[AmazonLinux2/1.29]", "/home/dev/.kube/config", "2024-06-03 10:24:51"]


def _v6_cli_color_table(g: Gen):
    i1, i2, ip1, ip2, n1, n2 = g.iid(), g.iid(), _ip10(g), _ip10(g), g.name("pms"), g.name("pms")
    def row(i, ip, n):
        return f"|  {_c('36', i)}  |  {_c('33', ip):<24}  |  {_c('32', 'running')}  |  {n:<28}|"
    text = ("$ aws ec2 describe-instances --color on --output table --query 'Reservations[].Instances[].[InstanceId,PrivateIpAddress,State.Name,Tags[?Key==`Name`]|[0].Value]'\n"
            "--------------------------------------------------------------------------------\n"
            f"|{_c('1', 'DescribeInstances'):^80}|\n"
            "+---------------------+--------------+-----------+-----------------------------+\n"
            f"{row(i1, ip1, n1)}\n{row(i2, ip2, n2)}\n"
            "+---------------------+--------------+-----------+-----------------------------+")
    return text, [i1, i2, ip1, ip2, n1, n2], [_c('32', 'running'), "--color on --output table"]


def _v6_ansi_inside(g: Gen):
    a, role, i, b = g.account(), g.name("pms"), g.iid(), g.bucket()
    text = (f"{_c('31', 'error')}: role arn:aws:iam::{_c('33', a)}:role/{_c('1', role)} cannot start {_c('36', i)}\n"
            f"  {_c('2', 'hint')}: check the bucket policy on s3://{_ESC}[4m{b}{_ESC}[24m/ and account {_ESC}[1;33m{a}{_ESC}[0m")
    return text, [a, role, i, b], [_c('31', 'error'), _c('2', 'hint')]


def _v6_jq_color(g: Gen):
    i, a, sn, r, v = g.iid(), g.account(), g.hexid("subnet"), g.region(), g.hexid("vpc")
    def kv(k, val, last=False):
        return (f"  {_ESC}[34;1m\"{k}\"{_ESC}[0m{_ESC}[1;39m:{_ESC}[0m{_ESC}[0;32m\"{val}\"{_ESC}[0m"
                + ("" if last else f"{_ESC}[1;39m,{_ESC}[0m"))
    text = (f"$ aws ec2 describe-instances | jq -C '.Reservations[0].Instances[0] | {{InstanceId, OwnerId, SubnetId, VpcId, Region}}'\n"
            f"{_ESC}[1;39m{{\n{kv('InstanceId', i)}\n{kv('OwnerId', a)}\n{kv('SubnetId', sn)}\n{kv('VpcId', v)}\n"
            f"{kv('Region', r, True)}\n{_ESC}[1;39m}}{_ESC}[0m")
    return text, [i, a, sn, v], [f"{_ESC}[34;1m\"InstanceId\"{_ESC}[0m", f"{_ESC}[34;1m\"Region\"{_ESC}[0m"]


def _v6_rg_color(g: Gen):
    b, t, a = g.bucket(), g.name(), g.account()
    def hit(path, ln, pre, val, post):
        return f"{_c('35', path)}:{_c('32', str(ln))}:{pre}{_ESC}[1m{_ESC}[31m{val}{_ESC}[0m{post}"
    text = ("$ rg --color=always -n 'prod'\n" + "\n".join([
        hit("src/config.ts", 7, "export const BUCKET = \"", b, "\";"),
        hit("src/config.ts", 8, "export const TABLE = \"", t, "\";"),
        hit("infra/accounts.tf", 2, "  prod = \"", a, "\"")]))
    return text, [b, t, a], [_c('35', 'src/config.ts'), _c('32', '7'), _c('35', 'infra/accounts.tf')]


def _v6_cdk_ansi(g: Gen):
    st, api, r, b, a, fn = g.name("Camel"), g.alnum(10, _LOWER_ALNUM), g.region(), g.bucket(), g.account(), g.name("pms")
    text = (f"\n {_c('32', '✅')}  {_c('1', st)}\n\n✨  Deployment time: 84.12s\n\nOutputs:\n"
            f"{st}.ApiEndpoint = {_c('36', f'https://{api}.execute-api.{r}.amazonaws.com/prod/')}\n"
            f"{st}.BucketName = {_c('36', b)}\n{st}.FunctionArn = arn:aws:lambda:{r}:{a}:function:{fn}\n"
            f"Stack ARN:\narn:aws:cloudformation:{r}:{a}:stack/{st}/{_uuid(g)}\n\n✨  Total time: 91.4s")
    return text, [st, api, b, a, fn], ["Deployment time: 84.12s", "Total time: 91.4s", "Outputs:"]


# wrapped / truncated terminal output
def _v6_backslash_wrap(g: Gen):
    fn, a, role, r, b, sn, sg = g.name("pms"), g.account(), g.name("pms"), g.region(), g.bucket(), g.hexid("subnet"), g.hexid("sg")
    text = (f"aws lambda create-function \\\n  --function-name {fn} \\\n  --runtime python3.12 \\\n"
            f"  --role arn:aws:iam::{a}:role/{role} \\\n  --code S3Bucket={b},S3Key=builds/{fn}.zip \\\n"
            f"  --vpc-config SubnetIds={sn},SecurityGroupIds={sg} \\\n  --region {r}")
    return text, [fn, a, role, b, sn, sg], ["--runtime python3.12 \\", "aws lambda create-function \\"]


def _v6_hard_wrap(g: Gen):
    a, role, t, r, sess = g.account(), g.name("pmsn"), g.name("pms"), g.region(), g.pick(["botocore-session-1717", "ci-run-4411"])
    full = (f"An error occurred (AccessDeniedException) when calling the PutItem operation: User: arn:aws:sts::{a}:assumed-role/{role}/{sess} "
            f"is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{r}:{a}:table/{t} because no identity-based "
            "policy allows the dynamodb:PutItem action")
    wrapped = "\n".join(full[i:i + 80] for i in range(0, len(full), 80))
    masks = [v for v in (a, role, t) if v in wrapped]
    return wrapped, masks, ["AccessDeniedException"]


def _v6_truncated_table(g: Gen):
    rows = [(g.name("pmsn"), g.iid(), _ip10(g)) for _ in range(3)]
    out = ["NAME                  INSTANCE             PRIVATE IP"]
    for n, i, ip in rows:
        out.append(f"{n[:18] + '…':<21} {i[:12] + '…':<20} {ip}")
    full = rows[1]
    text = ("\n".join(out) + f"\n\n(detail) {full[0]}  {full[1]}  launched 2024-06-01")
    masks = [full[0], full[1]] + [ip for _, _, ip in rows]
    return text, masks, ["NAME                  INSTANCE             PRIVATE IP", "launched 2024-06-01"]


def _v6_less(g: Gen):
    lg, a, r, fn, rid = g.name("ms"), g.account(), g.region(), g.name("pms"), _uuid(g)
    text = (f"$ aws logs get-log-events --log-group-name /aws/lambda/{fn} --log-stream-name '2024/06/03/[$LATEST]{_sha(g, 32)}' | less\n"
            "{\n    \"events\": [\n        {\n            \"timestamp\": 1717405931000,\n"
            f"            \"message\": \"START RequestId: {rid} Version: $LATEST\\n\",\n"
            f"            \"message\": \"[ERROR] ClientError: An error occurred (AccessDenied) when calling the GetObject operation on arn:aws:logs:{r}:{a}:log-group:/app/{lg}\\n\",\n"
            ":\n(END)")
    return text, [lg, a, fn], [rid, "(END)", "\"timestamp\": 1717405931000"]


def _v6_tmux_trailing(g: Gen):
    svc, elb_id, n, r = g.name("ms"), g.alnum(32, _LOWER_ALNUM), str(g.r.randint(100000000, 2099999999)), g.region()
    host = f"{elb_id}-{n}.{r}.elb.amazonaws.com"
    lines = ["$ kubectl get svc -n web -o wide",
             "NAME          TYPE           CLUSTER-IP      EXTERNAL-IP",
             f"{svc:<13} LoadBalancer   172.20.44.120   {host}",
             "kubernetes    ClusterIP      172.20.0.1      <none>"]
    text = "\n".join(ln.ljust(100) for ln in lines) + "\n"
    return text, [host], ["LoadBalancer", "<none>", "kubectl get svc -n web -o wide"]


# agent transcripts: tool inputs and results, tool errors, SDK traces and debug logs
def _v6_tool_use(g: Gen):
    b, a, r, role = g.bucket(), g.account(), g.region(), g.name("pms")
    blocks = [{"type": "text", "text": "Let me list what is in the bucket first."},
              {"type": "tool_use", "id": "toolu_01" + g.alnum(22, _MIXED_ALNUM), "name": "Bash",
               "input": {"command": f"aws s3 ls s3://{b}/exports/ --recursive --human-readable --region {r}",
                         "description": "List exported files"}},
              {"type": "tool_use", "id": "toolu_01" + g.alnum(22, _MIXED_ALNUM), "name": "Bash",
               "input": {"command": f"aws sts assume-role --role-arn arn:aws:iam::{a}:role/{role} --role-session-name claude"}}]
    return json.dumps(blocks), [b, a, role], ['"name": "Bash"', '"description": "List exported files"', "--human-readable"]


def _v6_tool_result(g: Gen):
    a, uid, role, k = g.account(), _aroa(g), g.name("pms"), _asia(g)
    out = json.dumps({"UserId": f"{uid}:claude", "Account": a, "Arn": f"arn:aws:sts::{a}:assumed-role/{role}/claude"}, indent=4)
    blocks = [{"type": "tool_result", "tool_use_id": "toolu_01" + g.alnum(22, _MIXED_ALNUM), "is_error": False,
               "content": [{"type": "text", "text": f"$ aws sts get-caller-identity\n{out}"}]},
              {"type": "text", "text": f"You are authenticated in account {a} with access key {k}."}]
    return json.dumps(blocks, indent=1), [a, uid, role, k], ['"type": "tool_result"', '"is_error": false']


def _v6_tool_error(g: Gen):
    t, r, a, q = g.name(), g.region(), g.account(), g.name("pms")
    text = (f"Error: Command failed: aws dynamodb describe-table --table-name {t} --region {r}\n\n"
            "An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: "
            f"Requested resource not found: Table: {t} not found\n\n"
            f"Error: Command failed: aws sqs get-queue-attributes --queue-url {_queue_url(r, a, q)} --attribute-names All\n"
            "Exit code 254")
    return text, [t, a, q], ["ResourceNotFoundException", "Exit code 254", "--attribute-names All"]


def _v6_js_v3_stack(g: Gen):
    a, role, t, r, rid = g.account(), g.name("pms"), g.name(), g.region(), g.alnum(52, _UPPER_ALNUM)
    sess = g.pick(["1717405931123", "aws-sdk-js-1717405931"])
    text = (f"AccessDeniedException: User: arn:aws:sts::{a}:assumed-role/{role}/{sess} is not authorized to perform: "
            f"dynamodb:PutItem on resource: arn:aws:dynamodb:{r}:{a}:table/{t} because no identity-based policy allows "
            "the dynamodb:PutItem action\n"
            "    at throwDefaultError (/var/task/node_modules/@smithy/smithy-client/dist-cjs/index.js:867:20)\n"
            "    at /var/task/node_modules/@smithy/smithy-client/dist-cjs/index.js:876:5\n"
            "    at async /var/task/node_modules/@smithy/middleware-serde/dist-cjs/index.js:35:20\n"
            "    at async Runtime.handler (file:///var/task/index.mjs:42:5) {\n"
            "  '$fault': 'client',\n  '$metadata': {\n    httpStatusCode: 400,\n"
            f"    requestId: '{rid}',\n    attempts: 1,\n    totalRetryDelay: 0\n  }},\n  __type: 'com.amazon.coral.service#AccessDeniedException'\n}}")
    return text, [a, role, t], [rid, "@smithy/smithy-client", "httpStatusCode: 400", "com.amazon.coral.service#AccessDeniedException",
                                "file:///var/task/index.mjs:42:5"]


def _v6_botocore_debug(g: Gen):
    b, r, k, key = g.bucket(), g.region(), g.akid(), f"exports/{g.r.randint(2020, 2024)}/part-0001.parquet"
    text = ("DEBUG:botocore.hooks:Event before-parameter-build.s3.PutObject: calling handler <function validate_bucket_name at 0x7f3a>\n"
            "DEBUG:botocore.endpoint:Making request for OperationModel(name=PutObject) with params: "
            f"{{'url_path': '/{key}', 'query_string': {{}}, 'method': 'PUT', 'headers': {{'User-Agent': 'Boto3/1.34.120 "
            f"md/Botocore#1.34.120 ua/2.0 os/linux', 'Content-MD5': 'q1w2e3r4t5y6u7i8o9p0aa=='}}, 'body': <_io.BufferedReader>, "
            f"'auth_path': '/{b}/{key}', 'url': 'https://{b}.s3.{r}.amazonaws.com/{key}', 'context': {{'client_region': '{r}', "
            f"'signing': {{'bucket': '{b}'}}}}}}\n"
            f"DEBUG:botocore.auth:Calculating signature using v4 auth.\nDEBUG:botocore.credentials:Found credentials in environment variables. ({k})")
    return text, [b, k], ["OperationModel(name=PutObject)", "Boto3/1.34.120", "before-parameter-build.s3.PutObject",
                          "Calculating signature using v4 auth."]


def _v6_aws_debug(g: Gen):
    k, tok, b, r, sig, h = _asia(g), _session_token(g), g.bucket(), g.region(), _sha(g, 64), _sha(g, 64)
    ts = f"2024-06-01 12:00:00,{g.r.randint(0, 999):03d}"
    text = (f"{ts} - MainThread - botocore.auth - DEBUG - CanonicalRequest:\nGET\n/\nlist-type=2&prefix=\n"
            f"host:{b}.s3.{r}.amazonaws.com\nx-amz-content-sha256:{h}\nx-amz-date:20240601T120000Z\n"
            f"x-amz-security-token:{tok}\n\nhost;x-amz-content-sha256;x-amz-date;x-amz-security-token\n{h}\n"
            f"{ts} - MainThread - botocore.auth - DEBUG - StringToSign:\nAWS4-HMAC-SHA256\n20240601T120000Z\n"
            f"20240601/{r}/s3/aws4_request\n{_sha(g, 64)}\n"
            f"{ts} - MainThread - botocore.auth - DEBUG - Signature:\n{sig}\n"
            f"{ts} - MainThread - botocore.endpoint - DEBUG - Sending http request: <AWSPreparedRequest stream_output=False, "
            f"method=GET, url=https://{b}.s3.{r}.amazonaws.com/?list-type=2&prefix=&encoding-type=url, headers={{"
            f"'Authorization': b'AWS4-HMAC-SHA256 Credential={k}/20240601/{r}/s3/aws4_request, "
            f"SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature={sig}'}}>")
    return text, [k, tok, b], [f"x-amz-content-sha256:{h}", f"20240601/{r}/s3/aws4_request", "x-amz-date:20240601T120000Z",
                               "MainThread - botocore.auth - DEBUG - CanonicalRequest:"]


def _v6_retry_log(g: Gen):
    b, r, t, a = g.bucket(), g.region(), g.name(), g.account()
    text = (f"2024-06-01 12:00:01,204 urllib3.connectionpool DEBUG Starting new HTTPS connection (1): {b}.s3.{r}.amazonaws.com:443\n"
            f"2024-06-01 12:00:01,911 urllib3.connectionpool DEBUG https://{b}.s3.{r}.amazonaws.com:443 \"PUT /staging/batch.json HTTP/1.1\" 503 None\n"
            "2024-06-01 12:00:01,912 botocore.retryhandler DEBUG Retry needed, retrying request after delay of: 0.4213\n"
            f"2024-06-01 12:00:02,400 botocore.retries.standard DEBUG Not retrying request. (ProvisionedThroughputExceededException) table {t} in {a}\n"
            "2024-06-01 12:00:02,401 botocore.retries.standard DEBUG Retry needed, retrying request after delay of: 0.87")
    return text, [b, t, a], ["Retry needed, retrying request after delay of: 0.4213", "\"PUT /staging/batch.json HTTP/1.1\" 503 None",
                             "ProvisionedThroughputExceededException"]


def _v6_cursor(g: Gen):
    a, u, i, ip = g.account(), g.person().replace(".", "-"), g.iid(), _pub_ip(g)
    text = ("**Ran terminal command**\n\n```bash\n$ aws sts get-caller-identity --output text && "
            f"aws ec2 describe-instances --instance-ids {i} --query 'Reservations[].Instances[].PublicIpAddress' --output text\n"
            f"{a}\tarn:aws:iam::{a}:user/{u}\t{_aida(g)}\n{ip}\n```\n\n"
            f"The instance `{i}` in account {a} is reachable at {ip}; I'll now SSH in.")
    return text, [a, u, i, ip], ["**Ran terminal command**", "```bash", "--output text &&"]


def _v6_aider(g: Gen):
    old, new, t = g.bucket(), g.bucket(), g.name()
    text = ("> Add infra/storage.tf to the chat? (Y)es/(N)o [Yes]: y\n\n"
            "infra/storage.tf\n```hcl\n<<<<<<< SEARCH\n"
            f'resource "aws_s3_bucket" "media" {{\n  bucket = "{old}"\n}}\n=======\n'
            f'resource "aws_s3_bucket" "media" {{\n  bucket = "{new}"\n}}\n\nresource "aws_dynamodb_table" "jobs" {{\n  name = "{t}"\n}}\n'
            ">>>>>>> REPLACE\n```\n\nApplied edit to infra/storage.tf\nCommit 4f2a91c chore: rename media bucket")
    return text, [old, new, t], ["<<<<<<< SEARCH", ">>>>>>> REPLACE", "Applied edit to infra/storage.tf", "Commit 4f2a91c"]


# HTTP-level artifacts
def _v6_http_request(g: Gen):
    b, r, k, tok, h = g.bucket(), g.region(), _asia(g), _session_token(g), _sha(g, 64)
    text = (f"PUT /reports/2024-06-01.csv HTTP/1.1\nHost: {b}.s3.{r}.amazonaws.com\nx-amz-date: 20240601T120000Z\n"
            f"x-amz-content-sha256: {h}\nX-Amz-Security-Token: {tok}\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={k}/20240601/{r}/s3/aws4_request, "
            f"SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature={_sha(g, 64)}\n"
            f"Content-Length: 1042\n\nHTTP/1.1 200 OK\nx-amz-request-id: {g.alnum(16, _UPPER_ALNUM)}\nETag: \"{_sha(g, 32)}\"")
    return text, [b, k, tok], ["HTTP/1.1 200 OK", f"x-amz-content-sha256: {h}", f"/20240601/{r}/s3/aws4_request",
                               "PUT /reports/2024-06-01.csv HTTP/1.1"]


def _v6_presigned(g: Gen):
    b, r, k, key = g.bucket(), g.region(), _asia(g), "invoices/2024/06/INV-3381.pdf"
    tok = "IQoJb3JpZ2luX2Vj" + g.alnum(300, _MIXED_ALNUM)   # no + or /: the same once percent-encoded
    url = (f"https://{b}.s3.{r}.amazonaws.com/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
           f"&X-Amz-Credential={k}%2F20240601%2F{r}%2Fs3%2Faws4_request&X-Amz-Date=20240601T120000Z&X-Amz-Expires=3600"
           f"&X-Amz-Security-Token={quote(tok, safe='')}&X-Amz-Signature={_sha(g, 64)}&X-Amz-SignedHeaders=host")
    text = (f"Here is the download link (valid 1h):\n{url}\n\nand the login redirect that wraps it:\n"
            f"https://app.example.com/login?next={quote(url, safe='')}")
    return text, [b, k, tok], ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=3600", "X-Amz-SignedHeaders=host",
                               "https://app.example.com/login?next="]


def _v6_curl_v(g: Gen):
    api, r, ip, rid, apigw = g.alnum(10, _LOWER_ALNUM), g.region(), _pub_ip(g), _uuid(g), g.alnum(16, _MIXED_ALNUM)
    host = f"{api}.execute-api.{r}.amazonaws.com"
    text = (f"$ curl -v https://{host}/prod/orders\n*   Trying {ip}:443...\n* Connected to {host} ({ip}) port 443 (#0)\n"
            "* SSL connection using TLSv1.3 / TLS_AES_128_GCM_SHA256\n* Server certificate:\n"
            f"*  subject: CN=*.execute-api.{r}.amazonaws.com\n> GET /prod/orders HTTP/2\n> Host: {host}\n"
            "> user-agent: curl/8.5.0\n> accept: */*\n>\n< HTTP/2 403\n< content-type: application/json\n"
            f"< x-amzn-requestid: {rid}\n< x-amz-apigw-id: {apigw}\n< x-amzn-errortype: ForbiddenException\n<\n"
            "{\"message\":\"Forbidden\"}")
    return text, [api, ip], ["< HTTP/2 403", "curl/8.5.0", rid, "ForbiddenException", "TLSv1.3 / TLS_AES_128_GCM_SHA256"]


def _v6_har(g: Gen):
    b, r, cid, a = g.bucket(), g.region(), g.alnum(26, _LOWER_ALNUM), g.account()
    pool = _pool_id(g, r)
    entry = {"log": {"version": "1.2", "entries": [{"startedDateTime": "2024-06-01T12:00:00.000Z", "time": 212.4,
             "request": {"method": "POST", "url": f"https://cognito-idp.{r}.amazonaws.com/",
                         "headers": [{"name": "X-Amz-Target", "value": "AWSCognitoIdentityProviderService.InitiateAuth"},
                                     {"name": "Content-Type", "value": "application/x-amz-json-1.1"}],
                         "postData": {"mimeType": "application/x-amz-json-1.1", "text": json.dumps(
                             {"AuthFlow": "USER_SRP_AUTH", "ClientId": cid, "AuthParameters": {"USERNAME": "qa-user"}})}},
             "response": {"status": 200, "statusText": "OK"}},
             {"request": {"method": "GET", "url": f"https://{b}.s3.{r}.amazonaws.com/avatars/42.png",
                          "headers": [{"name": "Referer", "value": f"https://console.aws.amazon.com/cognito/v2/idp/user-pools/{pool}/users?region={r}"}]},
              "response": {"status": 403, "statusText": "Forbidden"}, "comment": f"account {a}"}]}}
    return json.dumps(entry, indent=2), [b, pool, cid, a], ["AWSCognitoIdentityProviderService.InitiateAuth", "USER_SRP_AUTH",
                                                            '"statusText": "Forbidden"', "application/x-amz-json-1.1"]


def _v6_sts_xml(g: Gen):
    a, role, ro, k, s, tok = g.account(), g.name("pms"), _aroa(g), _asia(g), g.secret(), _session_token(g)
    text = ("HTTP/1.1 200 OK\nx-amzn-RequestId: " + _uuid(g) + "\nContent-Type: text/xml\n\n"
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <AssumeRoleResult>\n"
            f"    <AssumedRoleUser>\n      <AssumedRoleId>{ro}:deploy</AssumedRoleId>\n"
            f"      <Arn>arn:aws:sts::{a}:assumed-role/{role}/deploy</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n"
            f"      <AccessKeyId>{k}</AccessKeyId>\n      <SecretAccessKey>{s}</SecretAccessKey>\n"
            f"      <SessionToken>{tok}</SessionToken>\n      <Expiration>2024-06-01T13:00:00Z</Expiration>\n"
            "    </Credentials>\n  </AssumeRoleResult>\n</AssumeRoleResponse>")
    return text, [a, role, ro, k, s, tok], ["<Expiration>2024-06-01T13:00:00Z</Expiration>", "HTTP/1.1 200 OK",
                                            "https://sts.amazonaws.com/doc/2011-06-15/"]


# identifiers split or joined oddly
def _v6_double_encoded(g: Gen):
    a, role, r, fn = g.account(), g.name("pms"), g.region(), g.name("pms")
    dest = f"https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{fn}"
    once = quote(dest, safe="")
    twice = quote(once, safe="")
    d = "d-" + _sha(g, 10)
    text = (f"SSO link: https://{d}.awsapps.com/start/#/console?account_id={a}&role_name={role}&destination={once}\n"
            f"from Slack unfurl: https://slack-redir.net/link?url={twice}")
    return text, [a, role, fn, d], ["https://slack-redir.net/link?url="]


def _v6_md_fences(g: Gen):
    b, i, a, role, t = g.bucket(), g.iid(), g.account(), g.name("pms"), g.name()
    text = ("I found three places:\n\n```hcl title=\"infra/main.tf\"\n"
            f"bucket = \"{b}\"\n```\n\n```json\n{{\"InstanceId\": \"{i}\", \"OwnerId\": \"{a}\"}}\n```\n\n"
            f"```bash\naws iam get-role --role-name {role}\naws dynamodb scan --table-name {t} --max-items 5\n```")
    return text, [b, i, a, role, t], ["```hcl title=\"infra/main.tf\"", "```json", "--max-items 5"]


def _v6_html(g: Gen):
    i, r, a, b, sg = g.iid(), g.region(), g.account(), g.bucket(), g.hexid("sg")
    text = ("<table>\n  <tr><th>Instance</th><th>Account</th><th>Bucket</th></tr>\n"
            f"  <tr><td><a href=\"https://{r}.console.aws.amazon.com/ec2/home?region={r}#InstanceDetails:instanceId={i}\">{i}</a></td>"
            f"<td>{a}</td><td><code>{b}</code></td></tr>\n</table>\n"
            f"<p>Security group <code>{sg}</code> allows 0.0.0.0/0 on port 22.</p>")
    return text, [i, a, b, sg], ["<tr><th>Instance</th><th>Account</th><th>Bucket</th></tr>", "0.0.0.0/0", "port 22"]


def _v6_csv_quoted(g: Gen):
    a, role, b, fn, r = g.account(), g.name("pms"), g.bucket(), g.name("pms"), g.region()
    text = ("\"resource\",\"arn\",\"note\"\n"
            f"\"role\",\"arn:aws:iam::{a}:role/{role}\",\"used by \"\"ci\"\", rotate keys\"\n"
            f"\"bucket\",\"arn:aws:s3:::{b}\",\"public, see ticket SEC-112\"\n"
            f"\"function\",\"arn:aws:lambda:{r}:{a}:function:{fn}:live\",\"alias live\"")
    return text, [a, role, b, fn], ["\"resource\",\"arn\",\"note\"", "SEC-112", "\"alias live\""]


def _v6_saml(g: Gen):
    a, role, idp = g.account(), g.name("pms"), g.name("ms")
    text = ("<saml2:AttributeStatement>\n  <saml2:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/Role\">\n"
            f"    <saml2:AttributeValue>arn:aws:iam::{a}:role/{role},arn:aws:iam::{a}:saml-provider/{idp}</saml2:AttributeValue>\n"
            "  </saml2:Attribute>\n  <saml2:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/RoleSessionName\">\n"
            "    <saml2:AttributeValue>dev@example.com</saml2:AttributeValue>\n  </saml2:Attribute>\n"
            "  <saml2:Attribute Name=\"https://aws.amazon.com/SAML/Attributes/SessionDuration\">\n"
            "    <saml2:AttributeValue>3600</saml2:AttributeValue>\n  </saml2:Attribute>\n</saml2:AttributeStatement>")
    return text, [a, role, idp], ["https://aws.amazon.com/SAML/Attributes/Role\"", "<saml2:AttributeValue>3600</saml2:AttributeValue>"]


def _v6_athena_sql(g: Gen):
    db, tbl, b, a, r = g.name("p_m_s"), g.name("p_m_s"), g.bucket(), g.account(), g.region()
    text = (f"CREATE EXTERNAL TABLE IF NOT EXISTS `{db}`.`{tbl}` (\n  `eventtime` string,\n  `eventname` string\n)\n"
            "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n"
            f"LOCATION 's3://{b}/AWSLogs/{a}/CloudTrail/{r}/';\n\n"
            f"SELECT eventname, count(*) FROM \"{db}\".\"{tbl}\" WHERE eventtime > '2024-06-01' GROUP BY 1 LIMIT 10;")
    return text, [db, tbl, b, a], ["org.apache.hive.hcatalog.data.JsonSerDe", "GROUP BY 1 LIMIT 10", "`eventtime` string"]


def _v6_heredoc_loop(g: Gen):
    ids = [g.iid() for _ in range(3)]
    b, a, role = g.bucket(), g.account(), g.name("pms")
    text = (f"for id in {' '.join(ids)}; do\n  aws ec2 stop-instances --instance-ids \"$id\"\ndone\n\n"
            "cat <<'EOF' > /tmp/trust.json\n{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
            f"\"Principal\": {{\"AWS\": \"arn:aws:iam::{a}:root\"}}, \"Action\": \"sts:AssumeRole\"}}]}}\nEOF\n"
            f"aws iam update-assume-role-policy --role-name {role} --policy-document file:///tmp/trust.json\n"
            f"aws s3 cp /tmp/trust.json s3://{b}/audit/")
    return text, ids + [b, a, role], ["cat <<'EOF' > /tmp/trust.json", "file:///tmp/trust.json", "done\n"]


def _v6_json_in_yaml(g: Gen):
    b, a, r, q, t = g.bucket(), g.account(), g.region(), g.name("pms"), g.name()
    cfg = json.dumps({"bucket": b, "queueUrl": _queue_url(r, a, q), "table": t})
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: worker-config\ndata:\n"
            f"  config.json: '{cfg}'\n  settings.json: \"{{\\\"region\\\": \\\"{r}\\\", \\\"accountId\\\": \\\"{a}\\\"}}\"")
    return text, [b, a, q, t], ["name: worker-config", "kind: ConfigMap"]


# negatives: must come through unchanged
def _v6_neg_read(g: Gen):
    sha = _sha(g)
    src = ("import { S3Client } from '@aws-sdk/client-s3';\nimport { fromIni } from '@aws-sdk/credential-providers';\n\n"
           "// region comes from the environment (AWS_REGION)\nexport const s3 = new S3Client({ credentials: fromIni() });\n"
           f"// last synced at {sha}")
    text = "Read(src/lib/aws.ts)\n  \u23bf  Read 6 lines\n" + _arrow(src, 1)
    return text, [], ["     1\u2192import { S3Client } from '@aws-sdk/client-s3';", "'@aws-sdk/credential-providers'", sha,
                      "src/lib/aws.ts", "(AWS_REGION)", "     6\u2192"]


def _v6_neg_diff_ansi(g: Gen):
    s1, s2 = _sha(g, 7), _sha(g, 7)
    minus, plus = '-    "@aws-sdk/client-dynamodb": "^3.540.0",', '+    "@aws-sdk/client-dynamodb": "^3.592.0",'
    text = (f"{_c('1', 'diff --git a/package.json b/package.json')}\n{_c('1', f'index {s1}..{s2} 100644')}\n"
            f"{_c('36', '@@ -12,8 +12,8 @@')}\n   \"dependencies\": {{\n"
            f"{_c('31', minus)}\n{_c('32', plus)}\n     \"aws-cdk-lib\": \"2.144.0\",")
    return text, [], [s1, s2, _c('36', '@@ -12,8 +12,8 @@'), '"^3.592.0"', '"aws-cdk-lib": "2.144.0"', "@aws-sdk/client-dynamodb"]


def _v6_neg_sigv4(g: Gen):
    h, rid, r = _sha(g, 64), g.alnum(16, _UPPER_ALNUM), g.region()
    text = (f"StringToSign:\nAWS4-HMAC-SHA256\n20240601T120000Z\n20240601/{r}/s3/aws4_request\n{h}\n"
            f"x-amz-content-sha256: UNSIGNED-PAYLOAD\nHTTP/1.1 307 Temporary Redirect\nx-amz-request-id: {rid}\n"
            f"Location: https://s3.{r}.amazonaws.com/\nServer: AmazonS3")
    return text, [], [f"20240601/{r}/s3/aws4_request", h, rid, "HTTP/1.1 307 Temporary Redirect", "UNSIGNED-PAYLOAD",
                      f"https://s3.{r}.amazonaws.com/", "Server: AmazonS3"]


def _v6_neg_prompt(g: Gen):
    text = (f"{_c('32', 'dev@build-07')}:{_c('34', '~/src/infra')} (main) $ terraform plan -out tfplan\n"
            f"{_c('1', 'No changes.')} Your infrastructure matches the configuration.\n"
            "Plan: 0 to add, 0 to change, 0 to destroy.\n"
            "(venv) PS C:\\Users\\dev\\infra> aws --version\naws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1020-aws exe/x86_64.ubuntu.22")
    return text, [], [_c('34', '~/src/infra'), "Plan: 0 to add, 0 to change, 0 to destroy.", "aws-cli/2.15.30 Python/3.11.8",
                      "Linux/6.5.0-1020-aws", "(venv) PS C:\\Users\\dev\\infra>"]


VARIANTS_6: list[Template] = [
    # Claude Code Read tool (line number + arrow) over Terraform, .env, CloudFormation, k8s, GitHub Actions, compose,
    # task definition, IAM policy, Python, TypeScript, Go, ~/.aws/credentials, fluentd, nginx (#0-#13)
    _v6_read_tf, _v6_read_env, _v6_read_cfn, _v6_read_k8s, _v6_read_gha, _v6_read_compose, _v6_read_taskdef,
    _v6_read_iam_json, _v6_read_python, _v6_read_ts, _v6_read_go, _v6_read_credentials, _v6_read_fluentd, _v6_read_nginx,
    # cat -n, grep -n, ripgrep --heading, git grep (#14-#17)
    _v6_catn, _v6_grep_n, _v6_rg_heading, _v6_grep_accounts,
    # unified diffs, diff -u of .env, git log -p, git blame, JSON and k8s hunks (#18-#23)
    _v6_diff_tf, _v6_diff_env, _v6_git_log_p, _v6_git_blame, _v6_diff_taskdef, _v6_diff_k8s_sa,
    # ANSI colour: terraform plan, eksctl, aws --color on, colour inside an ARN, jq -C, rg --color, cdk (#24-#30)
    _v6_tf_plan_ansi, _v6_eksctl_ansi, _v6_cli_color_table, _v6_ansi_inside, _v6_jq_color, _v6_rg_color, _v6_cdk_ansi,
    # wrapped and truncated: backslash continuations, 80-column hard wrap, "…" cells, less, tmux trailing blanks (#31-#35)
    _v6_backslash_wrap, _v6_hard_wrap, _v6_truncated_table, _v6_less, _v6_tmux_trailing,
    # agent transcripts: tool_use, tool_result, tool errors, JS v3 stack, botocore debug, aws --debug, retries,
    # Cursor, aider (#36-#44)
    _v6_tool_use, _v6_tool_result, _v6_tool_error, _v6_js_v3_stack, _v6_botocore_debug, _v6_aws_debug, _v6_retry_log,
    _v6_cursor, _v6_aider,
    # HTTP: SigV4 request, presigned URL (and encoded again), curl -v, HAR, STS XML (#45-#49)
    _v6_http_request, _v6_presigned, _v6_curl_v, _v6_har, _v6_sts_xml,
    # odd joins: double percent-encoding, markdown fences, HTML, quoted CSV, SAML, Athena SQL, loops and heredocs,
    # JSON in YAML (#50-#57)
    _v6_double_encoded, _v6_md_fences, _v6_html, _v6_csv_quoted, _v6_saml, _v6_athena_sql, _v6_heredoc_loop,
    _v6_json_in_yaml,
    # negatives (#58-#61)
    _v6_neg_read, _v6_neg_diff_ansi, _v6_neg_sigv4, _v6_neg_prompt,
]


# --- variants-7: a seventh held-out list (session 9), written by a helper that never read the engine, its
# packs or tools/gen_vocab.py, from shapes in sources the project did not write (aws-lambda-go's
# events/testdata, the OpenTelemetry AWS semantic conventions, the tools' own output formats), every value
# made up here. Lambda event payloads as people paste them (API Gateway v1 REST and v2 HTTP requestContext with
# JWT claims, function URLs, ALB targets, SQS, SNS, S3, S3 Batch, EventBridge scheduled / ECS task /
# CodeBuild / ECR / alarm events, DynamoDB Streams, Kinesis, CloudWatch Logs subscriptions with their gzip
# payload decoded, Cognito triggers, AppSync, Step Functions context, Secrets Manager rotation, Auto Scaling
# lifecycle, async-invoke destinations); telemetry (OpenTelemetry resource attributes as JSON, collector
# debug text and OTEL_RESOURCE_ATTRIBUTES, OTLP spans, ADOT collector config, X-Ray segment documents and
# trace summaries, Powertools structured logs, Lambda START/END/REPORT lines and the JSON log format,
# CloudWatch agent config); tool output the earlier sets do not cover (AWS Tools for PowerShell Format-List /
# Format-Table / errors, Pulumi preview / up / stack output, terraform show -json, tfstate, terraform -json UI
# lines, CDK manifest.json / asset manifests / synth YAML, Serverless Framework deploy and info, SAM local
# invoke and sam logs, Packer builds and manifests, Jupyter .ipynb with outputs, Sentry events, Grafana
# dashboard and datasource provisioning, yace config and /metrics, Prometheus ec2_sd); negatives woven in
# (request IDs, X-Ray and W3C trace IDs, message IDs, UUIDs, SHAs and digests, timestamps, versions, enum
# words, regions, AWS-managed policy ARNs, public docs URLs) and four negative-only templates;
# 68 templates. Measured as it came out (report seed 13, 5 per template): 85.4 % recall (text and JSON alike),
# 63.2 % pass, 89.7 % kept, 25 failing templates (18 only leak a value, 4 leak and change a must-keep value,
# 3 only change one: #18, and #32 and #64 in the JSON body alone); seed 7 (1 per template): 85.4 %, 61 of 68
# must-keep cases kept. The misses: names in tool tables and listings with no label per value (PowerShell
# Format-Table, Pulumi's resource column, sam logs, Serverless deploy), names and an account in log lines and
# prose, names under keys and shapes that miss (subscriptionFilters, an OTLP arrayValue, yace QueueName pairs,
# Pulumi's "old" => "new", aws:cdk:path, aws.ecs.task.family, an ECS "group": "service:NAME", a service as a
# host), the account in CDK's aws://ACCOUNT/REGION, its bootstrap role names and arn:${AWS::Partition} ARNs, an
# APS workspace ID, a PowerShell -BucketName argument, a Packer AMI name; must-keep values changed: X-Ray trace
# IDs under "Id", a SegmentId (JSON only), a Step Functions state name, a Docker container ID, exception type
# names. Never tuned to. ----------------------------------------------------------------------------------


def _xray_id(g: Gen) -> str:
    return f"1-{g.alnum(8, _HEX)}-{g.alnum(24, _HEX)}"


def _span_id(g: Gen) -> str:
    return g.alnum(16, _HEX)


def _api_id(g: Gen) -> str:
    return g.alnum(10, _LOWER_ALNUM)


def _req_id16(g: Gen) -> str:
    return g.alnum(16, _UPPER_ALNUM)


def _fn(g: Gen) -> str:
    return g.name(g.pick(["pms", "pms", "ms", "p_m_s", "Camel"]))


# Lambda event payloads
def _v7_apigw_v1(g: Gen):
    a, api, r, u, k, rid, tr = g.account(), _api_id(g), g.region(), g.person().replace(".", "-"), _asia(g), _uuid(g), _xray_id(g)
    host = f"{api}.execute-api.{r}.amazonaws.com"
    ev = {"resource": "/orders/{id}", "path": "/orders/42", "httpMethod": "GET",
          "headers": {"Accept": "application/json", "Host": host, "User-Agent": "okhttp/4.12.0",
                      "X-Amzn-Trace-Id": f"Root={tr}", "X-Forwarded-Proto": "https"},
          "pathParameters": {"id": "42"}, "stageVariables": None,
          "requestContext": {"accountId": a, "resourceId": g.alnum(6, _LOWER_ALNUM), "stage": "prod", "requestId": rid,
                             "extendedRequestId": g.alnum(14, _MIXED_ALNUM) + "=", "path": "/prod/orders/42",
                             "identity": {"accountId": a, "caller": f"{_aida(g)}", "accessKey": k,
                                          "userArn": f"arn:aws:iam::{a}:user/{u}", "sourceIp": _pub_ip(g),
                                          "userAgent": "okhttp/4.12.0"},
                             "domainName": host, "domainPrefix": api, "apiId": api, "protocol": "HTTP/1.1"},
          "body": None, "isBase64Encoded": False}
    text = "Here's the event my handler receives (from CloudWatch):\n\n" + json.dumps(ev, indent=2)
    return text, [a, api, u, k], [rid, f"Root={tr}", '"httpMethod": "GET"', '"stage": "prod"']


def _v7_apigw_v2_jwt(g: Gen):
    a, api, r, pool, cid, sub, rid = g.account(), _api_id(g), g.region(), None, g.alnum(26, _LOWER_ALNUM), _uuid(g), _uuid(g)
    pool = _pool_id(g, r)
    ev = {"version": "2.0", "routeKey": "POST /checkout", "rawPath": "/checkout", "rawQueryString": "",
          "headers": {"authorization": "Bearer eyJraWQiOi...", "content-type": "application/json",
                      "host": f"{api}.execute-api.{r}.amazonaws.com"},
          "requestContext": {"accountId": a, "apiId": api,
                             "authorizer": {"jwt": {"claims": {"sub": sub, "iss": f"https://cognito-idp.{r}.amazonaws.com/{pool}",
                                                               "client_id": cid, "token_use": "access",
                                                               "scope": "orders/write"}, "scopes": None}},
                             "domainName": f"{api}.execute-api.{r}.amazonaws.com", "domainPrefix": api,
                             "http": {"method": "POST", "path": "/checkout", "protocol": "HTTP/1.1",
                                      "sourceIp": _pub_ip(g), "userAgent": "Mozilla/5.0"},
                             "requestId": g.alnum(14, _MIXED_ALNUM) + "=", "routeKey": "POST /checkout",
                             "stage": "$default", "time": "01/Jun/2024:09:14:27 +0000", "timeEpoch": 1717233267000},
          "body": "{\"cart\":\"" + rid + "\"}", "isBase64Encoded": False}
    return json.dumps(ev), [a, api, pool, cid], ['"routeKey": "POST /checkout"', '"stage": "$default"', '"token_use": "access"', rid]


def _v7_lambda_url(g: Gen):
    a, a2, url, r, k, aida, u = g.account(), g.account(), g.alnum(32, _LOWER_ALNUM), g.region(), _asia(g), _aida(g), g.name("ms")
    ev = {"version": "2.0", "rawPath": "/webhook", "rawQueryString": "source=stripe",
          "headers": {"host": f"{url}.lambda-url.{r}.on.aws", "x-amzn-trace-id": f"Root={_xray_id(g)}"},
          "requestContext": {"accountId": a, "apiId": url,
                             "authorizer": {"iam": {"accessKey": k, "accountId": a2, "callerId": aida,
                                                    "userArn": f"arn:aws:iam::{a2}:user/{u}", "userId": aida}},
                             "domainName": f"{url}.lambda-url.{r}.on.aws", "domainPrefix": url,
                             "http": {"method": "POST", "path": "/webhook", "protocol": "HTTP/1.1",
                                      "sourceIp": _pub_ip(g), "userAgent": "Stripe/1.0"},
                             "requestId": _uuid(g), "time": "01/Jun/2024:19:03:58 +0000", "timeEpoch": 1717268638390}}
    return "Function URL event (IAM auth):\n```json\n" + json.dumps(ev, indent=4) + "\n```", [a, a2, url, k, aida, u], ['"rawPath": "/webhook"', "source=stripe", ".lambda-url."]


def _v7_alb_target(g: Gen):
    a, r, tg, alb, tr = g.account(), g.region(), g.name("ms"), g.name("ms"), _xray_id(g)
    host = f"internal-{alb}-{g.r.randint(100000000, 2099999999)}.{r}.elb.amazonaws.com"
    ev = {"requestContext": {"elb": {"targetGroupArn": f"arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{g.alnum(16, _HEX)}"}},
          "httpMethod": "GET", "path": "/health", "queryStringParameters": {},
          "headers": {"accept": "*/*", "host": host, "user-agent": "ELB-HealthChecker/2.0",
                      "x-amzn-trace-id": f"Root={tr}", "x-forwarded-for": _ip10(g), "x-forwarded-port": "80",
                      "x-forwarded-proto": "http"}, "body": "", "isBase64Encoded": False}
    return json.dumps(ev, indent=2), [a, tg, alb], [f"Root={tr}", "ELB-HealthChecker/2.0", '"path": "/health"']


def _v7_sqs_event(g: Gen):
    a, r, q, ro, mid, sess = g.account(), g.region(), g.name(g.pick(["pms", "ms"])), _aroa(g), _uuid(g), g.name("ms")
    ev = {"Records": [{"messageId": mid, "receiptHandle": "AQEB" + g.alnum(120, _MIXED_ALNUM),
                       "body": "{\"orderId\": 9921}",
                       "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1717233267000",
                                      "SenderId": f"{ro}:{sess}", "ApproximateFirstReceiveTimestamp": "1717233267011"},
                       "messageAttributes": {}, "md5OfBody": g.alnum(32, _HEX), "eventSource": "aws:sqs",
                       "eventSourceARN": f"arn:aws:sqs:{r}:{a}:{q}", "awsRegion": r}]}
    text = f"My SQS-triggered Lambda keeps retrying the same message (ApproximateReceiveCount 3):\n{json.dumps(ev, indent=2)}"
    return text, [a, q, ro], [mid, '"eventSource": "aws:sqs"', '"ApproximateReceiveCount": "3"']


def _v7_sns_event(g: Gen):
    a, r, t, sub, mid = g.account(), g.region(), g.name("pms"), _uuid(g), _uuid(g)
    ev = {"Records": [{"EventVersion": "1.0", "EventSubscriptionArn": f"arn:aws:sns:{r}:{a}:{t}:{sub}",
                       "EventSource": "aws:sns",
                       "Sns": {"SignatureVersion": "1", "Timestamp": "2024-06-01T00:00:00.000Z",
                               "Signature": g.alnum(88, _B64), "SigningCertUrl": f"https://sns.{r}.amazonaws.com/SimpleNotificationService-{g.alnum(32, _HEX)}.pem",
                               "MessageId": mid, "Message": "deploy finished", "MessageAttributes": {},
                               "Type": "Notification",
                               "UnsubscribeUrl": f"https://sns.{r}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:{r}:{a}:{t}:{sub}",
                               "TopicArn": f"arn:aws:sns:{r}:{a}:{t}", "Subject": None}}]}
    return json.dumps(ev, indent=2), [a, t], [mid, '"Type": "Notification"', '"EventSource": "aws:sns"']


def _v7_s3_event(g: Gen):
    b, r, own, aida, rid, a = g.bucket(), g.region(), "A" + g.alnum(13, _UPPER_ALNUM), _aida(g), _req_id16(g), g.account()
    ev = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": r, "eventTime": "2024-06-01T09:14:27.312Z",
                       "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": f"AWS:{aida}"},
                       "requestParameters": {"sourceIPAddress": _pub_ip(g)},
                       "responseElements": {"x-amz-request-id": rid, "x-amz-id-2": g.alnum(76, _B64)},
                       "s3": {"s3SchemaVersion": "1.0", "configurationId": g.name("ms") + "-trigger",
                              "bucket": {"name": b, "ownerIdentity": {"principalId": own}, "arn": f"arn:aws:s3:::{b}"},
                              "object": {"key": "incoming/2024/06/01/batch-0007.csv", "size": 18233,
                                         "eTag": g.alnum(32, _HEX), "sequencer": g.alnum(18, "0123456789ABCDEF")}}}]}
    text = (f"expectedBucketOwner is {a} but the trigger below fires twice:\n" + json.dumps(ev))
    return text, [b, own, aida, a], [rid, '"eventName": "ObjectCreated:Put"', "incoming/2024/06/01/batch-0007.csv"]


def _v7_eventbridge_scheduled(g: Gen):
    a, r, rule, eid = g.account(), g.region(), g.name("pms"), _uuid(g)
    text = ('{\n  "version": "0",\n  "id": "' + eid + '",\n  "detail-type": "Scheduled Event",\n  "source": "aws.events",\n'
            f'  "account": "{a}",\n  "time": "2024-06-01T03:00:00Z",\n  "region": "{r}",\n'
            f'  "resources": [\n    "arn:aws:events:{r}:{a}:rule/{rule}"\n  ],\n  "detail": {{}}\n}}')
    return text, [a, rule], [eid, '"detail-type": "Scheduled Event"', '"source": "aws.events"', "2024-06-01T03:00:00Z"]


def _v7_ecs_task_state(g: Gen):
    a, r, cl, fam, svc, tid = g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("ms"), g.alnum(32, _HEX)
    eid = _uuid(g)
    ev = {"version": "0", "id": eid, "detail-type": "ECS Task State Change", "source": "aws.ecs", "account": a,
          "time": "2024-06-01T11:20:08Z", "region": r, "resources": [f"arn:aws:ecs:{r}:{a}:task/{cl}/{tid}"],
          "detail": {"clusterArn": f"arn:aws:ecs:{r}:{a}:cluster/{cl}", "group": f"service:{svc}",
                     "lastStatus": "STOPPED", "desiredStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                     "stoppedReason": "Essential container in task exited", "launchType": "FARGATE",
                     "taskArn": f"arn:aws:ecs:{r}:{a}:task/{cl}/{tid}",
                     "taskDefinitionArn": f"arn:aws:ecs:{r}:{a}:task-definition/{fam}:14",
                     "containers": [{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                                     "image": f"{a}.dkr.ecr.{r}.amazonaws.com/{svc}:2.3.1"}]}}
    return json.dumps(ev, indent=1), [a, cl, fam, svc, tid], [eid, '"stopCode": "EssentialContainerExited"', '"launchType": "FARGATE"']


def _v7_codebuild_event(g: Gen):
    a, r, proj, b, bid = g.account(), g.region(), g.name("pms"), g.bucket(), _uuid(g)
    ev = {"version": "0", "id": _uuid(g), "detail-type": "CodeBuild Build State Change", "source": "aws.codebuild",
          "account": a, "time": "2024-06-01T16:14:28Z", "region": r,
          "resources": [f"arn:aws:codebuild:{r}:{a}:build/{proj}:{bid}"],
          "detail": {"build-status": "FAILED", "project-name": proj, "build-id": f"arn:aws:codebuild:{r}:{a}:build/{proj}:{bid}",
                     "additional-information": {
                         "artifact": {"location": f"arn:aws:s3:::{b}/artifacts/{proj}.zip"},
                         "environment": {"image": "aws/codebuild/standard:7.0", "compute-type": "BUILD_GENERAL1_SMALL",
                                         "type": "LINUX_CONTAINER"},
                         "logs": {"group-name": f"/aws/codebuild/{proj}", "stream-name": bid,
                                  "deep-link": f"https://console.aws.amazon.com/cloudwatch/home?region={r}#logEvent:group=/aws/codebuild/{proj};stream={bid}"}}}}
    return json.dumps(ev, indent=2), [a, proj, b], ['"build-status": "FAILED"', "aws/codebuild/standard:7.0", "BUILD_GENERAL1_SMALL"]


def _v7_ecr_push(g: Gen):
    a, r, repo, dg = g.account(), g.region(), g.name("ms"), "sha256:" + g.alnum(64, _HEX)
    text = ('EventBridge delivered this to the deploy Lambda:\n{"version": "0", "id": "' + _uuid(g) + '", '
            '"detail-type": "ECR Image Action", "source": "aws.ecr", "account": "' + a + '", "time": "2024-06-01T01:54:34Z", '
            f'"region": "{r}", "resources": [], "detail": {{"result": "SUCCESS", "repository-name": "{repo}", '
            f'"image-digest": "{dg}", "action-type": "PUSH", "image-tag": "v1.42.0"}}}}')
    return text, [a, repo], [dg, '"image-tag": "v1.42.0"', '"action-type": "PUSH"']


def _v7_alarm_lambda(g: Gen):
    a, r, al, q = g.account(), g.region(), g.name("pms"), g.name("pms")
    ev = {"source": "aws.cloudwatch", "alarmArn": f"arn:aws:cloudwatch:{r}:{a}:alarm:{al}", "accountId": a,
          "time": "2024-06-01T08:01:14.000+0000", "region": r,
          "alarmData": {"alarmName": al, "state": {"value": "ALARM", "reason": "Threshold Crossed: 1 datapoint [912.0] was greater than the threshold (600.0).",
                                                    "timestamp": "2024-06-01T08:01:14.012+0000"},
                        "previousState": {"value": "OK"},
                        "configuration": {"metrics": [{"id": _uuid(g), "metricStat": {
                            "metric": {"namespace": "AWS/SQS", "name": "ApproximateAgeOfOldestMessage",
                                       "dimensions": {"QueueName": q}}, "period": 60, "stat": "Maximum"},
                            "returnData": True}]}}}
    return json.dumps(ev, indent=2), [a, al, q], ['"namespace": "AWS/SQS"', '"name": "ApproximateAgeOfOldestMessage"', '"stat": "Maximum"']


def _v7_ddb_stream(g: Gen):
    a, r, t, eid = g.account(), g.region(), g.name(), g.alnum(32, _HEX)
    ev = {"Records": [{"eventID": eid, "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                       "awsRegion": r, "dynamodb": {"ApproximateCreationDateTime": 1717233267,
                                                     "Keys": {"pk": {"S": "ORDER#9921"}, "sk": {"S": "ITEM#1"}},
                                                     "SequenceNumber": "1" + g.alnum(20, "0123456789"), "SizeBytes": 59,
                                                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
                       "eventSourceARN": f"arn:aws:dynamodb:{r}:{a}:table/{t}/stream/2024-05-30T10:22:33.456"}]}
    return "DynamoDB Streams record (trimmed):\n" + json.dumps(ev, indent=2), [a, t], [eid, '"StreamViewType": "NEW_AND_OLD_IMAGES"', "ORDER#9921"]


def _v7_kinesis(g: Gen):
    a, r, s, role = g.account(), g.region(), g.name("pms"), g.name("pms")
    seq = "4956" + g.alnum(52, "0123456789")
    rec = {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "device-77", "sequenceNumber": seq,
                       "data": "eyJ0ZW1wIjogMjEuNH0=", "approximateArrivalTimestamp": 1717233267.477},
           "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000003:{seq}",
           "eventName": "aws:kinesis:record", "invokeIdentityArn": f"arn:aws:iam::{a}:role/{role}", "awsRegion": r,
           "eventSourceARN": f"arn:aws:kinesis:{r}:{a}:stream/{s}"}
    return json.dumps({"Records": [rec]}, indent=2), [a, s, role], [f"shardId-000000000003:{seq}", "eyJ0ZW1wIjogMjEuNH0=", '"eventName": "aws:kinesis:record"']


def _v7_cwlogs_subscription(g: Gen):
    import base64
    import gzip
    a, fn, flt, stream = g.account(), _fn(g), g.name("ms"), f"2024/06/01/[$LATEST]{g.alnum(32, _HEX)}"
    ids = [g.alnum(56, "0123456789") for _ in range(2)]
    rid = _uuid(g)
    payload = {"messageType": "DATA_MESSAGE", "owner": a, "logGroup": f"/aws/lambda/{fn}", "logStream": stream,
               "subscriptionFilters": [flt],
               "logEvents": [{"id": ids[0], "timestamp": 1717233267000, "message": f"START RequestId: {rid} Version: $LATEST\n"},
                             {"id": ids[1], "timestamp": 1717233267412, "message": f"[ERROR] KeyError: 'orderId' RequestId: {rid}\n"}]}
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode(), mtime=0)).decode()
    text = ('The log-forwarder receives:\n{"awslogs": {"data": "' + data + '"}}\n\n'
            "base64 -d | gunzip gives:\n" + json.dumps(payload, indent=2))
    return text, [a, fn, flt], ['"messageType": "DATA_MESSAGE"', rid, "[$LATEST]", ids[1]]


def _v7_cognito_presignup(g: Gen):
    r, cid, user, ver = g.region(), g.alnum(26, _LOWER_ALNUM), _uuid(g), "aws-sdk-unknown-unknown"
    pool = _pool_id(g, r)
    ev = {"version": "1", "region": r, "userPoolId": pool, "userName": user,
          "callerContext": {"awsSdkVersion": ver, "clientId": cid}, "triggerSource": "PreSignUp_SignUp",
          "request": {"userAttributes": {"email": "new.user@example.com"}, "validationData": None},
          "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}}
    text = "print(json.dumps(event)) in my pre sign-up trigger:\n" + json.dumps(ev)
    return text, [pool, cid], ['"triggerSource": "PreSignUp_SignUp"', ver, "new.user@example.com"]


def _v7_cognito_pretoken(g: Gen):
    r, cid = g.region(), g.alnum(26, _LOWER_ALNUM)
    pool = _pool_id(g, r)
    grp = g.name("ms")
    text = (f"INFO\tEvent: {{'version': '2', 'triggerSource': 'TokenGeneration_HostedAuth', 'region': '{r}', "
            f"'userPoolId': '{pool}', 'userName': 'google_10{g.alnum(19, '0123456789')}', "
            f"'callerContext': {{'awsSdkVersion': 'aws-sdk-unknown-unknown', 'clientId': '{cid}'}}, "
            f"'request': {{'userAttributes': {{'cognito:user_status': 'EXTERNAL_PROVIDER'}}, "
            f"'groupConfiguration': {{'groupsToOverride': ['{grp}'], 'iamRolesToOverride': [], 'preferredRole': None}}, "
            "'scopes': ['openid', 'email']}, 'response': {'claimsAndScopeOverrideDetails': None}}")
    return text, [pool, cid], ["'triggerSource': 'TokenGeneration_HostedAuth'", "'cognito:user_status': 'EXTERNAL_PROVIDER'", "['openid', 'email']"]


def _v7_appsync_iam(g: Gen):
    a, r, api, role, ipool = g.account(), g.region(), g.alnum(26, _LOWER_ALNUM), g.name("pms"), None
    ipool = f"{r}:{_uuid(g)}"
    cog = f"{r}:{_uuid(g)}"
    ev = {"arguments": {"id": "9921"},
          "identity": {"accountId": a, "cognitoIdentityPoolId": ipool, "cognitoIdentityId": cog,
                       "sourceIp": [_pub_ip(g)], "username": f"{_aroa(g)}:CognitoIdentityCredentials",
                       "userArn": f"arn:aws:sts::{a}:assumed-role/{role}/CognitoIdentityCredentials",
                       "cognitoIdentityAuthType": "unauthenticated"},
          "request": {"headers": {"host": f"{api}.appsync-api.{r}.amazonaws.com", "x-amzn-requestid": _uuid(g)}},
          "info": {"fieldName": "getOrder", "parentTypeName": "Query"}}
    return json.dumps(ev, indent=2), [a, api, role, ipool], ['"fieldName": "getOrder"', '"cognitoIdentityAuthType": "unauthenticated"']


def _v7_sfn_context(g: Gen):
    a, r, sm, ex = g.account(), g.region(), g.name(g.pick(["pms", "Camel"])), _uuid(g)
    role = g.name("pms")
    ctx = {"Execution": {"Id": f"arn:aws:states:{r}:{a}:execution:{sm}:{ex}", "Input": {"orderId": 9921},
                         "Name": ex, "RoleArn": f"arn:aws:iam::{a}:role/{role}", "StartTime": "2024-06-01T10:00:00.000Z",
                         "RedriveCount": 0},
           "State": {"EnteredTime": "2024-06-01T10:00:01.212Z", "Name": "ChargeCard", "RetryCount": 2},
           "StateMachine": {"Id": f"arn:aws:states:{r}:{a}:stateMachine:{sm}", "Name": sm},
           "Task": {"Token": "AQCEAAAAKgAAAAMAAAAA" + g.alnum(60, _B64)}}
    text = "Passing $$ into the Lambda via Payload.$: \"$$\" gives this context object:\n" + json.dumps(ctx, indent=2)
    return text, [a, sm, role], ['"Name": "ChargeCard"', '"RetryCount": 2', "Payload.$"]


def _v7_secrets_rotation(g: Gen):
    a, r, sec, tok = g.account(), g.region(), g.name("ms"), _uuid(g)
    sfx = g.alnum(6, _MIXED_ALNUM)
    text = (f"[INFO]\t2024-06-01T02:00:04.118Z\t{_uuid(g)}\tsetSecret: event "
            f'{{"Step": "setSecret", "SecretId": "arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{sfx}", '
            f'"ClientRequestToken": "{tok}", "RotationToken": "{_uuid(g)}"}}\n'
            f"[ERROR]\tsetSecret: unable to log into database with previous, current, or pending secret of secret "
            f"arn arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{sfx}")
    return text, [a, sec], [tok, '"Step": "setSecret"', "unable to log into database"]


def _v7_asg_lifecycle(g: Gen):
    a, r, asg, iid, hook, tok = g.account(), g.region(), g.name("pms"), g.iid(), g.name("ms"), _uuid(g)
    ev = {"version": "0", "id": _uuid(g), "detail-type": "EC2 Instance-terminate Lifecycle Action",
          "source": "aws.autoscaling", "account": a, "time": "2024-06-01T22:19:31Z", "region": r,
          "resources": [f"arn:aws:autoscaling:{r}:{a}:autoScalingGroup:{_uuid(g)}:autoScalingGroupName/{asg}"],
          "detail": {"LifecycleActionToken": tok, "AutoScalingGroupName": asg, "LifecycleHookName": hook,
                     "EC2InstanceId": iid, "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
                     "Origin": "AutoScalingGroup", "Destination": "EC2"}}
    return json.dumps(ev, indent=2), [a, asg, iid, hook], [tok, "autoscaling:EC2_INSTANCE_TERMINATING", '"Origin": "AutoScalingGroup"']


def _v7_s3_batch(g: Gen):
    b, job, inv = g.bucket(), _uuid(g), g.alnum(60, _MIXED_ALNUM)
    ev = {"invocationSchemaVersion": "2.0", "invocationId": inv, "job": {"id": job, "userArguments": {"mode": "retag"}},
          "tasks": [{"taskId": g.alnum(40, _MIXED_ALNUM), "s3Key": "exports/2024-06-01/part-00000.parquet",
                     "s3VersionId": None, "s3Bucket": b}]}
    text = f"S3 Batch Operations job {job} invokes my function with:\n{json.dumps(ev, indent=2)}"
    return text, [b], [job, '"invocationSchemaVersion": "2.0"', "exports/2024-06-01/part-00000.parquet"]


def _v7_async_destination(g: Gen):
    a, r, fn, rid = g.account(), g.region(), _fn(g), _uuid(g)
    rec = {"version": "1.0", "timestamp": "2024-06-01T21:49:12.315Z",
           "requestContext": {"requestId": rid, "functionArn": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST",
                              "condition": "RetriesExhausted", "approximateInvokeCount": 3},
           "requestPayload": {"orderId": 9921},
           "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
           "responsePayload": {"errorMessage": "Task timed out after 30.03 seconds"}}
    return "on-failure destination message:\n" + json.dumps(rec), [a, fn], [rid, '"condition": "RetriesExhausted"', "Task timed out after 30.03 seconds"]


# telemetry: OpenTelemetry, X-Ray, Powertools, Lambda platform lines, agents' config
def _v7_otel_resource_json(g: Gen):
    a, r, cl, fam, tid, lg = g.account(), g.region(), g.name("pms"), g.name("pms"), g.alnum(32, _HEX), g.name("ms")
    cid = g.alnum(64, _HEX)
    attrs = {"cloud.provider": "aws", "cloud.platform": "aws_ecs", "cloud.account.id": a, "cloud.region": r,
             "cloud.availability_zone": f"{r}b", "aws.ecs.cluster.arn": f"arn:aws:ecs:{r}:{a}:cluster/{cl}",
             "aws.ecs.task.arn": f"arn:aws:ecs:{r}:{a}:task/{cl}/{tid}", "aws.ecs.task.family": fam,
             "aws.ecs.task.revision": "31", "aws.ecs.launchtype": "fargate", "container.id": cid,
             "aws.log.group.names": [f"/ecs/{lg}"], "aws.log.group.arns": [f"arn:aws:logs:{r}:{a}:log-group:/ecs/{lg}:*"],
             "aws.log.stream.names": [f"app/app/{tid}"], "service.name": "checkout",
             "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "java", "telemetry.sdk.version": "1.38.0"}
    text = "Resource attributes detected by the ECS resource detector:\n" + json.dumps(attrs, indent=2)
    return text, [a, cl, fam, tid, lg], ['"cloud.platform": "aws_ecs"', '"telemetry.sdk.version": "1.38.0"', '"cloud.account.id"', cid]


def _v7_otel_debug_text(g: Gen):
    a, r, fn, tr, sp, rid = g.account(), g.region(), _fn(g), g.alnum(32, _HEX), _span_id(g), _uuid(g)
    text = ("2024-06-01T09:14:27.441Z\tinfo\tTracesExporter\t{\"kind\": \"exporter\", \"data_type\": \"traces\", \"name\": \"debug\", \"resource spans\": 1, \"spans\": 1}\n"
            "ResourceSpans #0\nResource SchemaURL: https://opentelemetry.io/schemas/1.25.0\nResource attributes:\n"
            "     -> cloud.provider: Str(aws)\n     -> cloud.platform: Str(aws_lambda)\n"
            f"     -> cloud.region: Str({r})\n     -> cloud.account.id: Str({a})\n"
            f"     -> faas.name: Str({fn})\n     -> faas.version: Str($LATEST)\n     -> faas.max_memory: Int(536870912)\n"
            f"     -> aws.log.group.names: Slice([\"/aws/lambda/{fn}\"])\n     -> service.name: Str({fn})\n"
            "ScopeSpans #0\nScopeSpans SchemaURL:\nInstrumentationScope opentelemetry.instrumentation.aws_lambda 0.46b0\n"
            f"Span #0\n    Trace ID       : {tr}\n    Parent ID      :\n    ID             : {sp}\n"
            f"    Name           : {fn}\n    Kind           : Server\n"
            "    Start time     : 2024-06-01 09:14:27.118 +0000 UTC\n    Status code    : Unset\nAttributes:\n"
            f"     -> faas.invocation_id: Str({rid})\n"
            f"     -> cloud.resource_id: Str(arn:aws:lambda:{r}:{a}:function:{fn})\n     -> faas.trigger: Str(http)")
    return text, [a, fn], [tr, sp, rid, "cloud.platform: Str(aws_lambda)", "https://opentelemetry.io/schemas/1.25.0",
                           "opentelemetry.instrumentation.aws_lambda 0.46b0"]


def _v7_otel_env(g: Gen):
    a, r, cl, iid, ng = g.account(), g.region(), g.name("pms"), g.iid(), g.name("ms")
    text = ("kubectl -n checkout exec deploy/api -- env | grep OTEL\n"
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability:4317\n"
            "OTEL_SERVICE_NAME=checkout-api\n"
            f"OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,cloud.provider=aws,cloud.platform=aws_eks,"
            f"cloud.account.id={a},cloud.region={r},k8s.cluster.name={cl},"
            f"aws.eks.cluster.arn=arn:aws:eks:{r}:{a}:cluster/{cl},host.id={iid},k8s.nodegroup.name={ng}\n"
            "OTEL_TRACES_SAMPLER=parentbased_traceidratio\nOTEL_TRACES_SAMPLER_ARG=0.1")
    return text, [a, cl, iid, ng], ["OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability:4317",
                                    "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "cloud.platform=aws_eks"]


def _v7_otlp_span(g: Gen):
    a, r, t, q, tr, sp, rid = g.account(), g.region(), g.name(), g.name("pms"), g.alnum(32, _HEX), _span_id(g), _req_id16(g) + g.alnum(36, _UPPER_ALNUM)
    rid2 = _uuid(g)

    def kv(k, v):
        return {"key": k, "value": {"stringValue": v}}
    span = {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "@opentelemetry/instrumentation-aws-sdk", "version": "0.41.0"},
            "spans": [
                {"traceId": tr, "spanId": sp, "name": "DynamoDB.PutItem", "kind": 3,
                 "attributes": [kv("rpc.system", "aws-api"), kv("rpc.service", "DynamoDB"), kv("rpc.method", "PutItem"),
                                {"key": "aws.dynamodb.table_names", "value": {"arrayValue": {"values": [{"stringValue": t}]}}},
                                kv("aws.request_id", rid), kv("cloud.region", r)]},
                {"traceId": tr, "spanId": _span_id(g), "name": f"{q} send", "kind": 4,
                 "attributes": [kv("rpc.system", "aws-api"), kv("rpc.service", "SQS"), kv("rpc.method", "SendMessage"),
                                kv("messaging.system", "aws_sqs"), kv("messaging.destination.name", q),
                                kv("aws.sqs.queue.url", _queue_url(r, a, q)), kv("aws.request_id", rid2)]}]}]}]}
    return json.dumps(span), [t, q, a], [tr, sp, rid, rid2, '"stringValue": "aws-api"', "@opentelemetry/instrumentation-aws-sdk"]


def _v7_adot_config(g: Gen):
    a, r, cl, role, ws = g.account(), g.region(), g.name("pms"), g.name("pms"), "ws-" + _uuid(g)
    text = ("receivers:\n  awsecscontainermetrics:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 0.0.0.0:4317\n"
            "extensions:\n  sigv4auth:\n"
            f"    region: {r}\n    service: aps\n    assume_role:\n      arn: arn:aws:iam::{a}:role/{role}\n"
            "exporters:\n  awsxray:\n"
            f"    region: {r}\n  awsemf:\n    namespace: ECS/ContainerInsights\n"
            f"    log_group_name: '/aws/ecs/containerinsights/{cl}/performance'\n"
            f"  prometheusremotewrite:\n    endpoint: https://aps-workspaces.{r}.amazonaws.com/workspaces/{ws}/api/v1/remote_write\n"
            "    auth:\n      authenticator: sigv4auth\n"
            "service:\n  extensions: [sigv4auth]\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [awsxray]")
    return text, [a, cl, role, ws], ["namespace: ECS/ContainerInsights", "authenticator: sigv4auth", "exporters: [awsxray]"]


def _v7_xray_segment(g: Gen):
    a, r, fn, t, q, tr = g.account(), g.region(), _fn(g), g.name(), g.name("pms"), _xray_id(g)
    rid, rid2, seg = _uuid(g), _req_id16(g) + g.alnum(36, _UPPER_ALNUM), _span_id(g)
    doc = {"trace_id": tr, "id": seg, "name": fn, "start_time": 1717233267.118, "end_time": 1717233267.912,
           "origin": "AWS::Lambda::Function",
           "aws": {"account_id": a, "function_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}",
                   "resource_names": [fn], "request_id": rid},
           "subsegments": [
               {"id": _span_id(g), "name": "DynamoDB", "namespace": "aws", "start_time": 1717233267.2, "end_time": 1717233267.31,
                "aws": {"operation": "UpdateItem", "region": r, "request_id": rid2, "retries": 0, "table_name": t,
                        "resource_names": [t]}, "http": {"response": {"status": 200}}},
               {"id": _span_id(g), "name": "SQS", "namespace": "aws", "start_time": 1717233267.4, "end_time": 1717233267.5,
                "aws": {"operation": "SendMessage", "region": r, "queue_url": _queue_url(r, a, q), "request_id": _uuid(g)},
                "http": {"response": {"status": 200}}}]}
    text = "aws xray batch-get-traces segment Document (unescaped):\n" + json.dumps(doc, indent=2)
    return text, [a, fn, t, q], [tr, seg, rid, rid2, '"origin": "AWS::Lambda::Function"', '"operation": "UpdateItem"']


def _v7_xray_summaries(g: Gen):
    a, r, fn, svc, tr1, tr2 = g.account(), g.region(), _fn(g), g.name("pms"), _xray_id(g), _xray_id(g)
    out = {"TraceSummaries": [
        {"Id": tr1, "Duration": 3.21, "ResponseTime": 3.2, "HasFault": True, "HasError": False, "HasThrottle": False,
         "Http": {"HttpURL": f"https://{svc}.internal/checkout", "HttpStatus": 502, "HttpMethod": "POST"},
         "Annotations": {"tenant": [{"AnnotationValue": {"StringValue": "t-0042"}}]},
         "ServiceIds": [{"Name": fn, "Names": [fn], "AccountId": a, "Type": "AWS::Lambda::Function"},
                        {"Name": svc, "Names": [svc], "AccountId": a, "Type": "AWS::ECS::Container"}],
         "ResourceARNs": [{"ARN": f"arn:aws:lambda:{r}:{a}:function:{fn}"}],
         "EntryPoint": {"Name": fn, "Names": [fn], "AccountId": a, "Type": "AWS::Lambda::Function"}},
        {"Id": tr2, "Duration": 0.11, "HasFault": False, "HasError": False, "HasThrottle": False}],
        "ApproximateTime": "2024-06-01T09:15:00+00:00", "TracesProcessedCount": 2}
    text = f"$ aws xray get-trace-summaries --start-time 1717233000 --end-time 1717233300 --filter-expression 'fault = true'\n{json.dumps(out, indent=4)}"
    return text, [a, fn, svc], [tr1, tr2, '"Type": "AWS::ECS::Container"', "fault = true", '"HttpStatus": 502']


def _v7_powertools_py(g: Gen):
    a, r, fn, rid, tr = g.account(), g.region(), _fn(g), _uuid(g), _xray_id(g)
    t = g.name()
    rec = {"level": "ERROR", "location": "handler:41", "message": f"ConditionalCheckFailed on {t}",
           "timestamp": "2024-06-01 09:14:27,441+0000", "service": "payment", "cold_start": True,
           "function_name": fn, "function_memory_size": "512", "function_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}",
           "function_request_id": rid, "correlation_id": _uuid(g), "xray_trace_id": tr,
           "exception": "botocore.errorfactory.ConditionalCheckFailedException: An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: The conditional request failed",
           "exception_name": "ConditionalCheckFailedException"}
    return json.dumps(rec), [a, fn, t], [rid, tr, '"location": "handler:41"', '"exception_name": "ConditionalCheckFailedException"']


def _v7_powertools_ts_emf(g: Gen):
    a, r, fn, rid, tr = g.account(), g.region(), _fn(g), _uuid(g), _xray_id(g)
    log = {"cold_start": False, "function_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}:live",
           "function_memory_size": 1024, "function_name": fn, "function_request_id": rid, "level": "INFO",
           "message": "order accepted", "sampling_rate": 0.1, "service": "orders", "timestamp": "2024-06-01T09:14:27.512Z",
           "xray_trace_id": tr}
    emf = {"_aws": {"Timestamp": 1717233267512, "CloudWatchMetrics": [{"Namespace": "Orders", "Dimensions": [["service"]],
                                                                     "Metrics": [{"Name": "OrderAccepted", "Unit": "Count"}]}]},
           "service": "orders", "OrderAccepted": 1, "function_name": fn}
    text = f"{json.dumps(log)}\n{json.dumps(emf)}"
    return text, [a, fn], [rid, tr, '"Unit": "Count"', '"sampling_rate": 0.1']


def _v7_lambda_report(g: Gen):
    fn, rid, tr, seg = _fn(g), _uuid(g), _xray_id(g), _span_id(g)
    stream = f"2024/06/01/[$LATEST]{g.alnum(32, _HEX)}"
    text = (f"aws logs tail /aws/lambda/{fn} --since 10m\n"
            f"2024-06-01T09:14:26.901000+00:00 {stream} INIT_START Runtime Version: python:3.12.v28\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:{g.alnum(64, _HEX)}\n"
            f"2024-06-01T09:14:27.118000+00:00 {stream} START RequestId: {rid} Version: $LATEST\n"
            f"2024-06-01T09:14:30.120000+00:00 {stream} {rid} Task timed out after 3.00 seconds\n\n"
            f"2024-06-01T09:14:30.121000+00:00 {stream} END RequestId: {rid}\n"
            f"2024-06-01T09:14:30.121000+00:00 {stream} REPORT RequestId: {rid}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
            f"Memory Size: 128 MB\tMax Memory Used: 96 MB\tInit Duration: 412.36 ms\t\nXRAY TraceId: {tr}\tSegmentId: {seg}\tSampled: true")
    return text, [fn], [rid, tr, seg, "Max Memory Used: 96 MB", "Runtime Version: python:3.12.v28", "Billed Duration: 3000 ms"]


def _v7_lambda_json_log(g: Gen):
    a, r, fn, rid, tr, sp = g.account(), g.region(), _fn(g), _uuid(g), _xray_id(g), _span_id(g)
    lines = [{"time": "2024-06-01T09:14:26.901Z", "type": "platform.initStart",
              "record": {"initializationType": "on-demand", "phase": "init", "runtimeVersion": "nodejs:20.v24",
                         "functionName": fn, "functionVersion": "$LATEST"}},
             {"time": "2024-06-01T09:14:27.118Z", "type": "platform.start",
              "record": {"requestId": rid, "version": "$LATEST",
                         "tracing": {"spanId": sp, "type": "X-Amzn-Trace-Id", "value": f"Root={tr};Parent={sp};Sampled=1"}}},
             {"timestamp": "2024-06-01T09:14:27.301Z", "level": "ERROR", "requestId": rid,
              "message": f"AccessDeniedException: User: arn:aws:sts::{a}:assumed-role/{fn}-role/{fn} is not authorized to perform: "
                         f"lambda:InvokeFunction on resource: arn:aws:lambda:{r}:{a}:function:{fn}-worker"},
             {"time": "2024-06-01T09:14:27.350Z", "type": "platform.report",
              "record": {"requestId": rid, "metrics": {"durationMs": 231.5, "billedDurationMs": 232, "memorySizeMB": 256,
                                                       "maxMemoryUsedMB": 88, "initDurationMs": 217.9}, "status": "success"}}]
    return "\n".join(json.dumps(x) for x in lines), [a, fn], [rid, f"Root={tr};Parent={sp};Sampled=1", '"type": "platform.report"', '"runtimeVersion": "nodejs:20.v24"']


def _v7_cwagent_config(g: Gen):
    a, role, lg = g.account(), g.name("pms"), g.name("ms")
    cfg = {"agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent",
                     "credentials": {"role_arn": f"arn:aws:iam::{a}:role/{role}"}},
           "logs": {"logs_collected": {"files": {"collect_list": [
               {"file_path": "/var/log/nginx/access.log", "log_group_name": f"/ec2/{lg}/nginx",
                "log_stream_name": "{instance_id}", "retention_in_days": 30}]}}},
           "metrics": {"namespace": "CWAgent", "append_dimensions": {"InstanceId": "${aws:InstanceId}",
                                                                     "AutoScalingGroupName": "${aws:AutoScalingGroupName}"},
                       "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
    text = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json:\n" + json.dumps(cfg, indent=2)
    return text, [a, role, lg], ['"log_stream_name": "{instance_id}"', '"${aws:InstanceId}"', '"namespace": "CWAgent"', "mem_used_percent"]


# AWS Tools for PowerShell
def _v7_ps_ec2_fl(g: Gen):
    iid, ami, key, sn, vpc, sg, r = g.iid(), g.hexid("ami"), g.name("ms"), g.hexid("subnet"), g.hexid("vpc"), g.hexid("sg"), g.region()
    ip = _ip10(g)
    dom = "ec2.internal" if r == "us-east-1" else f"{r}.compute.internal"
    text = (f"PS C:\\> (Get-EC2Instance -InstanceId {iid} -Region {r}).Instances | Format-List\n\n"
            "AmiLaunchIndex                          : 0\nArchitecture                            : x86_64\n"
            f"ImageId                                 : {ami}\nInstanceId                              : {iid}\n"
            "InstanceType                            : t3.medium\n"
            f"KeyName                                 : {key}\nLaunchTime                              : 6/1/2024 9:14:27 AM\n"
            "Placement                               : Amazon.EC2.Model.Placement\n"
            f"PrivateDnsName                          : ip-{ip.replace('.', '-')}.{dom}\n"
            f"PrivateIpAddress                        : {ip}\n"
            "SecurityGroups                          : {" + sg + "}\n"
            "State                                   : Amazon.EC2.Model.InstanceState\n"
            f"SubnetId                                : {sn}\nVpcId                                   : {vpc}\n"
            "Tags                                    : {Name, Environment}")
    return text, [iid, ami, key, sn, vpc, sg], ["Amazon.EC2.Model.InstanceState", "t3.medium", "6/1/2024 9:14:27 AM"]


def _v7_ps_s3bucket_ft(g: Gen):
    bs = [g.bucket() for _ in range(3)]
    text = ("PS /home/dev> Get-S3Bucket\n\nCreationDate          BucketName\n------------          ----------\n"
            f"3/14/2022 10:02:11 AM {bs[0]}\n11/2/2023 4:45:09 PM  {bs[1]}\n1/30/2024 8:00:41 AM  {bs[2]}\n")
    return text, bs, ["CreationDate          BucketName", "3/14/2022 10:02:11 AM"]


def _v7_ps_iam_role(g: Gen):
    a, role, ro = g.account(), g.name("pms"), _aroa(g)
    doc = quote('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
    text = (f"PS> Get-IAMRole -RoleName {role}\n\n"
            f"Arn                      : arn:aws:iam::{a}:role/{role}\nAssumeRolePolicyDocument : {doc}\n"
            "CreateDate               : 2/20/2024 1:12:45 PM\nDescription              :\nMaxSessionDuration       : 3600\n"
            f"Path                     : /\nPermissionsBoundary      :\nRoleId                   : {ro}\nRoleLastUsed             : Amazon.IdentityManagement.Model.RoleLastUsed\n"
            f"RoleName                 : {role}\nTags                     : {{}}")
    return text, [a, role, ro], ["lambda.amazonaws.com", "MaxSessionDuration       : 3600", "Amazon.IdentityManagement.Model.RoleLastUsed"]


def _v7_ps_credential(g: Gen):
    k, s, a, u, aida, prof = g.akid(), g.secret(), g.account(), g.person().replace(".", "-"), _aida(g), g.name("ms")
    text = (f"PS C:\\> Set-AWSCredential -AccessKey {k} -SecretKey {s} -StoreAs {prof}\n"
            f"PS C:\\> Get-STSCallerIdentity -ProfileName {prof} | Format-List\n\n"
            f"Account        : {a}\nArn            : arn:aws:iam::{a}:user/{u}\nUserId         : {aida}\n"
            "LoggedAt       : 6/1/2024 9:14:27 AM\nResponseMetadata : Amazon.Runtime.ResponseMetadata\n"
            "ContentLength  : 404\nHttpStatusCode : OK")
    return text, [k, s, a, u, aida], ["Set-AWSCredential", "HttpStatusCode : OK", "Amazon.Runtime.ResponseMetadata"]


def _v7_ps_lambda_ft(g: Gen):
    fns = [_fn(g) for _ in range(3)]
    w = max(len(f) for f in fns) + 2
    rows = "\n".join(f"{f:<{w}}{rt:<13}{lm}" for f, rt, lm in zip(fns, ["python3.12", "nodejs20.x", "java21"],
                                                                   ["2024-05-28T14:02:11.000+0000", "2024-06-01T08:30:44.000+0000",
                                                                    "2023-12-04T19:22:05.000+0000"], strict=True))
    text = ("PS> Get-LMFunctionList | Format-Table FunctionName, Runtime, LastModified\n\n"
            f"{'FunctionName':<{w}}{'Runtime':<13}LastModified\n{'------------':<{w}}{'-------':<13}------------\n{rows}")
    return text, fns, ["nodejs20.x", "python3.12", "2024-06-01T08:30:44.000+0000"]


def _v7_ps_error(g: Gen):
    b, r = g.bucket(), g.region()
    text = (f"PS C:\\scripts> Get-S3Object -BucketName {b} -KeyPrefix exports/ -Region {r}\n"
            "Get-S3Object : The specified bucket does not exist\nAt line:1 char:1\n"
            f"+ Get-S3Object -BucketName {b} -KeyPrefix exports/ -Region {r}\n"
            "+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n"
            "    + CategoryInfo          : InvalidOperation: (Amazon.PowerShe...tS3ObjectCmdlet:GetS3ObjectCmdlet) [Get-S3Object], InvalidOperationException\n"
            "    + FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception,Amazon.PowerShell.Cmdlets.S3.GetS3ObjectCmdlet")
    return text, [b], ["FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception", "The specified bucket does not exist"]


# Pulumi
def _v7_pulumi_preview(g: Gen):
    org, proj, b, fn = g.name("ms"), g.name("ms"), g.bucket(), _fn(g)
    sfx1, sfx2, upd = g.alnum(7, _HEX), g.alnum(7, _HEX), _uuid(g)
    text = ("Previewing update (prod)\n\n"
            f"View in Browser (Ctrl+O): https://app.pulumi.com/{org}/{proj}/prod/previews/{upd}\n\n"
            "     Type                              Name              Plan       Info\n"
            f"     pulumi:pulumi:Stack               {proj}-prod\n"
            f" +   ├─ aws:s3:BucketV2                {b}     create\n"
            f" ~   ├─ aws:lambda:Function            {fn}   update     [diff: ~environment]\n"
            " +   └─ aws:iam:RolePolicyAttachment   lambda-basic      create\n\n"
            "Outputs:\n"
            f"  ~ bucketName  : \"{b}-{sfx1}\" => output<string>\n"
            f"    functionName: \"{fn}-{sfx2}\"\n\n"
            "Resources:\n    + 2 to create\n    ~ 1 to update\n    3 changes. 4 unchanged")
    return text, [b, fn, f"{b}-{sfx1}", f"{fn}-{sfx2}"], ["aws:iam:RolePolicyAttachment", "pulumi:pulumi:Stack", upd,
                                                          "3 changes. 4 unchanged", "Previewing update (prod)"]


def _v7_pulumi_stack_output(g: Gen):
    a, r, b, cl, role, v, sfx = g.account(), g.region(), g.bucket(), g.name("pms"), g.name("pms"), g.hexid("vpc"), g.alnum(7, _HEX)
    out = {"bucketArn": f"arn:aws:s3:::{b}-{sfx}", "bucketName": f"{b}-{sfx}", "clusterName": cl,
           "clusterEndpoint": f"https://{g.alnum(32, '0123456789ABCDEF')}.gr7.{r}.eks.amazonaws.com",
           "nodeRoleArn": f"arn:aws:iam::{a}:role/{role}", "vpcId": v, "region": r}
    text = "$ pulumi stack output --json --show-secrets\n" + json.dumps(out, indent=4)
    ep = out["clusterEndpoint"].split("//")[1].split(".")[0]
    return text, [a, f"{b}-{sfx}", cl, role, v, ep], ["--show-secrets", '"region"']


def _v7_pulumi_up_diff(g: Gen):
    a, r, proj, fn, t_old, t_new, role = g.account(), g.region(), g.name("ms"), _fn(g), g.name(), g.name(), g.name("pms")
    phys = f"{fn}-{g.alnum(7, _HEX)}"
    text = ("Updating (prod)\n\n"
            f"  pulumi:pulumi:Stack: ({proj}-prod)\n"
            "    ~ aws:lambda/function:Function: (update)\n"
            f"        [id={phys}]\n"
            f"        [urn=urn:pulumi:prod::{proj}::aws:lambda/function:Function::{fn}]\n"
            "        [provider=urn:pulumi:prod::" + proj + "::pulumi:providers:aws::default_6_38_0::" + _uuid(g) + "]\n"
            "      ~ environment: {\n          ~ variables: {\n"
            f"              ~ TABLE_NAME: \"{t_old}\" => \"{t_new}\"\n            }}\n        }}\n"
            f"        role         : \"arn:aws:iam::{a}:role/{role}\"\n"
            f"        arn          : \"arn:aws:lambda:{r}:{a}:function:{phys}\"\n"
            "Resources:\n    ~ 1 updated\n    12 unchanged\n\nDuration: 14s")
    return text, [a, phys, t_old, t_new, role], ["aws:lambda/function:Function", "default_6_38_0", "Duration: 14s"]


# Terraform
def _v7_tf_show_json(g: Gen):
    a, r, q, kms = g.account(), g.region(), g.name("pms"), _uuid(g)
    res = {"address": "aws_sqs_queue.jobs", "mode": "managed", "type": "aws_sqs_queue", "name": "jobs",
           "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
           "values": {"arn": f"arn:aws:sqs:{r}:{a}:{q}", "id": _queue_url(r, a, q), "name": q, "fifo_queue": False,
                      "kms_master_key_id": f"arn:aws:kms:{r}:{a}:key/{kms}", "message_retention_seconds": 345600,
                      "url": _queue_url(r, a, q), "tags_all": {"ManagedBy": "terraform"}},
           "sensitive_values": {"tags_all": {}}}
    doc = {"format_version": "1.0", "terraform_version": "1.8.5",
           "values": {"root_module": {"resources": [res]}}}
    return "terraform show -json | jq .\n" + json.dumps(doc, indent=2), [a, q, kms], [
        '"provider_name": "registry.terraform.io/hashicorp/aws"', '"address": "aws_sqs_queue.jobs"', '"terraform_version": "1.8.5"']


def _v7_tfstate(g: Gen):
    a, r, role, ro, db, h, dbi, lin = g.account(), g.region(), g.name("pms"), _aroa(g), g.name("pms"), g.alnum(12, _LOWER_ALNUM), "db-" + g.alnum(26, _B32), _uuid(g)
    arp = json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                             "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})
    st = {"version": 4, "terraform_version": "1.7.4", "serial": 112, "lineage": lin, "outputs": {},
          "resources": [
              {"mode": "managed", "type": "aws_iam_role", "name": "task", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
               "instances": [{"schema_version": 0, "attributes": {"arn": f"arn:aws:iam::{a}:role/{role}", "assume_role_policy": arp,
                                                                  "id": role, "name": role, "unique_id": ro, "path": "/"}}]},
              {"mode": "managed", "type": "aws_db_instance", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
               "instances": [{"schema_version": 2, "attributes": {"address": f"{db}.{h}.{r}.rds.amazonaws.com",
                                                                  "arn": f"arn:aws:rds:{r}:{a}:db:{db}", "engine": "postgres",
                                                                  "engine_version": "16.3", "identifier": db,
                                                                  "resource_id": dbi, "port": 5432}}]}]}
    return json.dumps(st, indent=2), [a, role, ro, db, h, dbi], [lin, '"terraform_version": "1.7.4"', '"engine_version": "16.3"', "ecs-tasks.amazonaws.com"]


def _v7_tf_json_ui(g: Gen):
    iid, b, sg = g.iid(), g.bucket(), g.hexid("sg")
    lines = [{"@level": "info", "@message": "Terraform 1.8.5", "@module": "terraform.ui", "@timestamp": "2024-06-01T09:14:20.118312Z",
              "terraform": "1.8.5", "type": "version", "ui": "1.2"},
             {"@level": "info", "@message": f"aws_security_group.web: Creation complete after 3s [id={sg}]", "@module": "terraform.ui",
              "@timestamp": "2024-06-01T09:14:24.001Z", "hook": {"resource": {"addr": "aws_security_group.web", "resource_type": "aws_security_group",
                                                                                "resource_name": "web"}, "action": "create", "id_key": "id",
                                                                   "id_value": sg, "elapsed_seconds": 3}, "type": "apply_complete"},
             {"@level": "info", "@message": f"aws_instance.web: Creation complete after 32s [id={iid}]", "@module": "terraform.ui",
              "@timestamp": "2024-06-01T09:14:56.431Z", "hook": {"resource": {"addr": "aws_instance.web", "resource_type": "aws_instance",
                                                                                "resource_name": "web"}, "action": "create", "id_key": "id",
                                                                   "id_value": iid, "elapsed_seconds": 32}, "type": "apply_complete"},
             {"@level": "error", "@message": f"Error: creating S3 Bucket ({b}): operation error S3: CreateBucket, https response error StatusCode: 409, BucketAlreadyOwnedByYou",
              "@module": "terraform.ui", "@timestamp": "2024-06-01T09:14:57.002Z", "type": "diagnostic"}]
    return "\n".join(json.dumps(x) for x in lines), [iid, b, sg], ['"@module": "terraform.ui"', "BucketAlreadyOwnedByYou", '"resource_type": "aws_instance"']


# CDK
def _v7_cdk_manifest(g: Gen):
    a, r, st = g.account(), g.region(), g.name("Camel")
    art = {st: {"type": "aws:cloudformation:stack", "environment": f"aws://{a}/{r}",
                "properties": {"templateFile": f"{st}.template.json", "terminationProtection": False,
                               "validateOnSynth": False,
                               "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{a}:role/cdk-hnb659fds-deploy-role-{a}-{r}",
                               "cloudFormationExecutionRoleArn": f"arn:${{AWS::Partition}}:iam::{a}:role/cdk-hnb659fds-cfn-exec-role-{a}-{r}",
                               "stackTemplateAssetObjectUrl": f"s3://cdk-hnb659fds-assets-{a}-{r}/{g.alnum(64, _HEX)}.json",
                               "requiresBootstrapStackVersion": 6,
                               "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"},
                "metadata": {f"/{st}/Uploads/Resource": [{"type": "aws:cdk:logicalId", "data": "Uploads1E8A4F2C"}]},
                "displayName": st}}
    doc = {"version": "36.0.0", "artifacts": art}
    return "cdk.out/manifest.json:\n" + json.dumps(doc, indent=2), [a, st], [
        '"type": "aws:cdk:logicalId"', "/cdk-bootstrap/hnb659fds/version", "${AWS::Partition}", '"version": "36.0.0"']


def _v7_cdk_assets(g: Gen):
    a, r, st, h = g.account(), g.region(), g.name("Camel"), g.alnum(64, _HEX)
    doc = {"version": "36.0.0", "files": {h: {"source": {"path": f"asset.{h}", "packaging": "zip"},
                                              "destinations": {f"{a}-{r}": {"bucketName": f"cdk-hnb659fds-assets-{a}-{r}",
                                                                            "objectKey": f"{h}.zip", "region": r,
                                                                            "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{a}:role/cdk-hnb659fds-file-publishing-role-{a}-{r}"}}}},
           "dockerImages": {}}
    text = f"cat cdk.out/{st}.assets.json\n{json.dumps(doc, indent=1)}"
    return text, [a, st], [f"{h}.zip", '"packaging": "zip"']


def _v7_cdk_synth_yaml(g: Gen):
    a, st, fn, t, role = g.account(), g.name("Camel"), _fn(g), g.name(), g.name("pms")
    text = ("$ npx cdk synth\nResources:\n  Handler886CB40B:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      Code:\n        S3Bucket:\n          Fn::Sub: cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}\n"
            f"      FunctionName: {fn}\n      Role: arn:aws:iam::{a}:role/{role}\n      Runtime: nodejs20.x\n"
            f"      Environment:\n        Variables:\n          TABLE_NAME: {t}\n"
            f"    Metadata:\n      aws:cdk:path: {st}/Handler/Resource\n      aws:asset:property: Code\n"
            "Parameters:\n  BootstrapVersion:\n    Type: AWS::SSM::Parameter::Value<String>\n"
            "    Default: /cdk-bootstrap/hnb659fds/version\nRules:\n  CheckBootstrapVersion:\n    Assertions:\n"
            "      - Assert:\n          Fn::Not:\n            - Fn::Contains:\n                - - \"1\"\n")
    return text, [a, fn, t, role, st], ["Handler886CB40B", "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                                        "AWS::SSM::Parameter::Value<String>", "CheckBootstrapVersion"]


# Serverless Framework, SAM
def _v7_sls_deploy(g: Gen):
    svc, api, r, a = g.name("ms"), _api_id(g), g.region(), g.account()
    text = (f"Deploying \"{svc}\" to stage \"prod\" ({r})\n\n"
            f"\u2714 Service deployed to stack {svc}-prod (112s)\n\n"
            f"endpoints:\n  POST - https://{api}.execute-api.{r}.amazonaws.com/prod/orders\n"
            f"  GET - https://{api}.execute-api.{r}.amazonaws.com/prod/orders/{{id}}\n"
            f"functions:\n  createOrder: {svc}-prod-createOrder (1.9 MB)\n  getOrder: {svc}-prod-getOrder (1.9 MB)\n\n"
            "Need a faster logging experience than CloudWatch? Try our Dev Mode in Console: run \"serverless --console\"\n\n"
            f"$ serverless info --verbose\nStack Outputs:\n  CreateOrderLambdaFunctionQualifiedArn: arn:aws:lambda:{r}:{a}:function:{svc}-prod-createOrder:7\n"
            f"  ServiceEndpoint: https://{api}.execute-api.{r}.amazonaws.com/prod\n"
            f"  ServerlessDeploymentBucketName: {svc}-prod-serverlessdeploymentbucke-{g.alnum(12, _LOWER_ALNUM)}")
    return text, [svc, api, a], ["(112s)", "serverless --console", "Stack Outputs:"]


def _v7_sam_local(g: Gen):
    t, a, r, q, rid = g.name(), g.account(), g.region(), g.name("pms"), _uuid(g)
    text = ("$ sam local invoke OrdersFunction -e events/event.json --env-vars env.json\n"
            "Invoking app.lambda_handler (python3.12)\nLocal image is up-to-date\n"
            "Using local image: public.ecr.aws/lambda/python:3.12-rapid-x86_64.\n\n"
            "Mounting /home/dev/orders/.aws-sam/build/OrdersFunction as /var/task:ro,delegated, inside runtime container\n"
            f"START RequestId: {rid} Version: $LATEST\n"
            f"[INFO]\t2024-06-01T09:14:27.441Z\t{rid}\twriting to {t}, then notifying {_queue_url(r, a, q)}\n"
            "[ERROR] ResourceNotFoundException: An error occurred (ResourceNotFoundException) when calling the PutItem operation: "
            "Requested resource not found\nTraceback (most recent call last):\n"
            "  File \"/var/task/app.py\", line 27, in lambda_handler\n"
            f"END RequestId: {rid}\nREPORT RequestId: {rid}\tInit Duration: 0.31 ms\tDuration: 912.44 ms\tBilled Duration: 913 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 128 MB")
    return text, [t, a, q], [rid, "public.ecr.aws/lambda/python:3.12-rapid-x86_64", "/var/task:ro,delegated", "ResourceNotFoundException"]


def _v7_sam_logs(g: Gen):
    st, rid = g.name("pms"), _uuid(g)
    phys = f"{st}-OrdersFunction-{g.alnum(12, _MIXED_ALNUM)}"
    stream = f"2024/06/01/[$LATEST]{g.alnum(32, _HEX)}"
    text = (f"$ sam logs -n OrdersFunction --stack-name {st} --tail\n"
            f"{phys} {stream} 2024-06-01T09:14:27.118000 START RequestId: {rid} Version: $LATEST\n"
            f"{phys} {stream} 2024-06-01T09:14:27.512000 [WARNING] retrying PutItem (attempt 2)\n"
            f"{phys} {stream} 2024-06-01T09:14:27.900000 END RequestId: {rid}")
    return text, [st, phys], [rid, "[WARNING] retrying PutItem (attempt 2)", "--tail"]


# Packer
def _v7_packer_build(g: Gen):
    src, new, iid, sg, snap, r = g.hexid("ami"), g.hexid("ami"), g.iid(), g.hexid("sg"), g.hexid("snap"), g.region()
    kp = f"packer_{g.alnum(24, _HEX)}"
    name = f"{g.name('ms')}-{g.r.randint(1717000000, 1717999999)}"
    text = (f"==> amazon-ebs.base: Prevalidating AMI Name: {name}\n"
            f"    amazon-ebs.base: Found Image ID: {src}\n"
            f"==> amazon-ebs.base: Creating temporary keypair: {kp}\n"
            f"==> amazon-ebs.base: Creating temporary security group for this instance: {sg}\n"
            "==> amazon-ebs.base: Authorizing access to port 22 from [0.0.0.0/0] in the temporary security groups...\n"
            "==> amazon-ebs.base: Launching a source AWS instance...\n"
            f"    amazon-ebs.base: Instance ID: {iid}\n"
            f"==> amazon-ebs.base: Waiting for instance ({iid}) to become ready...\n"
            f"==> amazon-ebs.base: Creating AMI {name} from instance {iid}\n"
            f"    amazon-ebs.base: AMI: {new}\n==> amazon-ebs.base: Waiting for AMI to become ready...\n"
            f"==> amazon-ebs.base: Tagging snapshot: {snap}\n"
            "Build 'amazon-ebs.base' finished after 6 minutes 12 seconds.\n\n"
            "==> Wait completed after 6 minutes 12 seconds\n\n==> Builds finished. The artifacts of successful builds are:\n"
            f"--> amazon-ebs.base: AMIs were created:\n{r}: {new}\n")
    return text, [src, new, iid, sg, snap, name], ["Build 'amazon-ebs.base' finished after 6 minutes 12 seconds.", "[0.0.0.0/0]", "amazon-ebs.base"]


def _v7_packer_manifest(g: Gen):
    r1, r2, a1, a2, run = "eu-west-1", "us-east-1", g.hexid("ami"), g.hexid("ami"), _uuid(g)
    doc = {"builds": [{"name": "base", "builder_type": "amazon-ebs", "build_time": 1717233267, "files": None,
                       "artifact_id": f"{r1}:{a1},{r2}:{a2}", "packer_run_uuid": run,
                       "custom_data": {"git_sha": g.alnum(40, _HEX)}}], "last_run_uuid": run}
    return "packer-manifest.json\n" + json.dumps(doc, indent=2), [a1, a2], [run, '"builder_type": "amazon-ebs"', doc["builds"][0]["custom_data"]["git_sha"]]


# notebooks, Sentry, Grafana, Prometheus
def _v7_ipynb_s3(g: Gen):
    b, a, role, rid = g.bucket(), g.account(), g.name("pms"), _req_id16(g)
    etag = g.alnum(32, _HEX)
    nb = {"cells": [
        {"cell_type": "code", "execution_count": 3, "metadata": {}, "source": [
            "import boto3\n", "print(boto3.client('sts').get_caller_identity()['Arn'])\n",
            f"boto3.client('s3').list_objects_v2(Bucket='{b}', MaxKeys=1)"],
         "outputs": [{"name": "stdout", "output_type": "stream",
                      "text": [f"arn:aws:sts::{a}:assumed-role/{role}/SageMaker\n"]},
                     {"data": {"text/plain": [
                         f"{{'ResponseMetadata': {{'RequestId': '{rid}', 'HTTPStatusCode': 200, 'RetryAttempts': 0}},\n",
                         f" 'IsTruncated': True,\n 'Contents': [{{'Key': 'raw/2024/06/01/events.json.gz', 'ETag': '\"{etag}\"', 'Size': 88213,\n",
                         "   'StorageClass': 'STANDARD'}],\n", f" 'Name': '{b}',\n", " 'MaxKeys': 1,\n 'KeyCount': 1}"]},
                      "execution_count": 3, "metadata": {}, "output_type": "execute_result"}]}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1), [b, a, role], [rid, etag, "'StorageClass': 'STANDARD'", '"nbformat_minor": 5']


def _v7_ipynb_sagemaker(g: Gen):
    a, r, job, st = g.account(), g.region(), g.name("ms"), "20240601T" + g.alnum(6, "0123456789")
    nb = {"cell_type": "code", "execution_count": 7, "metadata": {},
          "source": ["sess = sagemaker.Session()\n", "role = sagemaker.get_execution_role()\n", "print(role, sess.default_bucket())\n",
                     f"est.fit({{'train': f's3://{{sess.default_bucket()}}/{job}/train'}}, job_name='{job}-001')"],
          "outputs": [{"name": "stderr", "output_type": "stream",
                       "text": ["sagemaker.config INFO - Not applying SDK defaults from location: /etc/xdg/sagemaker/config.yaml\n"]},
                      {"name": "stdout", "output_type": "stream",
                       "text": [f"arn:aws:iam::{a}:role/service-role/AmazonSageMaker-ExecutionRole-{st} sagemaker-{r}-{a}\n",
                                f"2024-06-01 10:11:12 Starting - Starting the training job {job}-001...\n"]}]}
    return json.dumps(nb, indent=1), [a, job], ["sagemaker.config INFO", "/etc/xdg/sagemaker/config.yaml", '"execution_count": 7']


def _v7_sentry_event(g: Gen):
    a, r, fn, role, t, rid, evid = g.account(), g.region(), _fn(g), g.name("pms"), g.name(), _uuid(g), g.alnum(32, _HEX)
    tr = g.alnum(32, _HEX)
    ev = {"event_id": evid, "level": "error", "platform": "python", "release": "orders@3.14.2",
          "exception": {"values": [{"type": "ClientError", "module": "botocore.exceptions",
                                    "value": f"An error occurred (AccessDeniedException) when calling the PutItem operation: "
                                             f"User: arn:aws:sts::{a}:assumed-role/{role}/{fn} is not authorized to perform: "
                                             f"dynamodb:PutItem on resource: arn:aws:dynamodb:{r}:{a}:table/{t} because no "
                                             "identity-based policy allows the dynamodb:PutItem action"}]},
          "contexts": {"aws_lambda": {"aws_request_id": rid, "function_name": fn, "function_version": "$LATEST",
                                      "invoked_function_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}",
                                      "remaining_time_in_millis": 2711},
                       "aws_cloudwatch_logs": {"log_group": f"/aws/lambda/{fn}",
                                               "url": f"https://console.aws.amazon.com/cloudwatch/home?region={r}#logEventViewer:group=/aws/lambda/{fn};"
                                                      f"stream=2024/06/01/[$LATEST]{g.alnum(32, _HEX)};start=2024-06-01T09:14:20Z"},
                       "trace": {"trace_id": tr, "span_id": _span_id(g), "op": "function.aws"}},
          "sdk": {"name": "sentry.python.aws_lambda", "version": "2.5.1"}}
    return json.dumps(ev, indent=2), [a, fn, role, t], [evid, rid, tr, '"release": "orders@3.14.2"', '"op": "function.aws"']


def _v7_sentry_breadcrumbs(g: Gen):
    b, r, q, a, h = g.bucket(), g.region(), g.name("pms"), g.account(), g.alnum(12, _LOWER_ALNUM)
    db = g.name("pms")
    text = ("Sentry issue ORDERS-API-4F2 \u2014 OperationalError: could not connect to server\n\nBreadcrumbs\n"
            f"  09:14:26  http     GET https://{b}.s3.{r}.amazonaws.com/templates/invoice.html [200]\n"
            f"  09:14:26  http     POST https://sqs.{r}.amazonaws.com/{a}/{q} [200]\n"
            f"  09:14:27  query    connect {db}.{h}.{r}.rds.amazonaws.com:5432\n"
            "  09:14:31  error    OperationalError: timeout expired\n\n"
            f"Tags\n  environment = production\n  server_name = {_node_host(g, r)}\n  runtime = CPython 3.12.3\n  release = orders-api@2024.6.1")
    return text, [b, q, a, db, h], ["ORDERS-API-4F2", "runtime = CPython 3.12.3", "release = orders-api@2024.6.1", "environment = production"]


def _v7_grafana_dashboard(g: Gen):
    a, r, fn, db, q = g.account(), g.region(), _fn(g), g.name("pms"), g.name("pms")
    ds = {"type": "cloudwatch", "uid": g.alnum(14, _MIXED_ALNUM)}

    def tgt(ns, metric, dims, ref):
        return {"datasource": ds, "namespace": ns, "metricName": metric, "dimensions": dims, "region": r,
                "statistic": "Sum", "period": "", "refId": ref, "matchExact": True, "accountId": a,
                "metricQueryType": 0, "metricEditorMode": 0}
    dash = {"title": "Orders \u2014 prod", "uid": g.alnum(9, _MIXED_ALNUM), "schemaVersion": 39,
            "panels": [{"type": "timeseries", "title": "Lambda errors", "datasource": ds,
                        "targets": [tgt("AWS/Lambda", "Errors", {"FunctionName": fn}, "A")]},
                       {"type": "stat", "title": "DB connections", "datasource": ds,
                        "targets": [tgt("AWS/RDS", "DatabaseConnections", {"DBInstanceIdentifier": db}, "B")]},
                       {"type": "timeseries", "title": "Queue depth", "datasource": ds,
                        "targets": [tgt("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": q}, "C")]}]}
    return json.dumps(dash, indent=2), [a, fn, db, q], ['"namespace": "AWS/Lambda"', '"metricName": "DatabaseConnections"',
                                                        '"type": "cloudwatch"', '"schemaVersion": 39']


def _v7_grafana_datasource(g: Gen):
    a, role, k, s, ext = g.account(), g.name("pms"), g.akid(), g.secret(), g.alnum(20, _MIXED_ALNUM)
    text = ("# provisioning/datasources/cloudwatch.yaml\napiVersion: 1\ndatasources:\n  - name: CloudWatch prod\n"
            "    type: cloudwatch\n    jsonData:\n      authType: keys\n      defaultRegion: eu-central-1\n"
            f"      assumeRoleArn: arn:aws:iam::{a}:role/{role}\n      externalId: {ext}\n"
            "      customMetricsNamespaces: 'CWAgent,Orders'\n    secureJsonData:\n"
            f"      accessKey: {k}\n      secretKey: {s}\n")
    return text, [a, role, k, s], ["authType: keys", "defaultRegion: eu-central-1", "customMetricsNamespaces: 'CWAgent,Orders'"]


def _v7_yace_config(g: Gen):
    a, role, q1, q2, r = g.account(), g.name("pms"), g.name("pms"), g.name("pms"), g.region()
    text = ("apiVersion: v1alpha1\nsts-region: " + r + "\ndiscovery:\n  jobs:\n    - type: AWS/SQS\n"
            f"      regions: [{r}]\n      roles:\n        - roleArn: \"arn:aws:iam::{a}:role/{role}\"\n"
            "      searchTags:\n        - key: team\n          value: payments\n      metrics:\n"
            "        - name: ApproximateNumberOfMessagesVisible\n          statistics: [Average]\n          period: 300\n"
            "static:\n  - namespace: AWS/SQS\n    name: dlq-watch\n"
            f"    regions: [{r}]\n    dimensions:\n      - name: QueueName\n        value: {q1}\n"
            f"      - name: QueueName\n        value: {q2}\n    metrics:\n      - name: NumberOfMessagesSent\n        statistics: [Sum]")
    return text, [a, role, q1, q2], ["apiVersion: v1alpha1", "type: AWS/SQS", "statistics: [Average]", "name: QueueName"]


def _v7_yace_metrics(g: Gen):
    a, r, q1, q2 = g.account(), g.region(), g.name("pms"), g.name("pms")

    def line(q, v):
        return (f'aws_sqs_approximate_number_of_messages_visible_average{{account_id="{a}",dimension_QueueName="{q}",'
                f'name="arn:aws:sqs:{r}:{a}:{q}",region="{r}",tag_team="payments"}} {v}')
    text = ("$ curl -s localhost:5000/metrics | grep sqs_approximate\n"
            "# HELP aws_sqs_approximate_number_of_messages_visible_average Help is not implemented yet.\n"
            "# TYPE aws_sqs_approximate_number_of_messages_visible_average gauge\n"
            f"{line(q1, 12)}\n{line(q2, 0)}")
    return text, [a, q1, q2], ["# TYPE aws_sqs_approximate_number_of_messages_visible_average gauge", 'tag_team="payments"']


def _v7_prom_ec2_sd(g: Gen):
    a, role, k, s, iid, r = g.account(), g.name("pms"), g.akid(), g.secret(), g.iid(), g.region()
    ip = _ip10(g)
    text = ("scrape_configs:\n  - job_name: node\n    ec2_sd_configs:\n"
            f"      - region: {r}\n        access_key: {k}\n        secret_key: {s}\n"
            f"        role_arn: arn:aws:iam::{a}:role/{role}\n        port: 9100\n        filters:\n"
            "          - name: tag:Monitoring\n            values: [enabled]\n    relabel_configs:\n"
            "      - source_labels: [__meta_ec2_instance_id]\n        target_label: instance_id\n\n"
            f"# Targets page:\n# http://{ip}:9100/metrics  UP  instance_id=\"{iid}\" job=\"node\"  last scrape 4.1s ago")
    return text, [a, role, k, s, iid], ["__meta_ec2_instance_id", "target_label: instance_id", "job_name: node"]


# negatives: must come through unchanged
def _v7_neg_lambda_lines(g: Gen):
    rid, tr, seg = _uuid(g), _xray_id(g), _span_id(g)
    text = (f"START RequestId: {rid} Version: $LATEST\nEND RequestId: {rid}\n"
            f"REPORT RequestId: {rid}\tDuration: 1204.55 ms\tBilled Duration: 1205 ms\tMemory Size: 1024 MB\t"
            f"Max Memory Used: 211 MB\tInit Duration: 688.12 ms\nXRAY TraceId: {tr}\tSegmentId: {seg}\tSampled: true")
    return text, [], [rid, tr, seg, "Version: $LATEST", "Init Duration: 688.12 ms", "Sampled: true"]


def _v7_neg_semconv(g: Gen):
    text = ("From https://opentelemetry.io/docs/specs/semconv/resource/cloud-provider/aws/ecs/ :\n"
            "| Attribute | Type | Description |\n|---|---|---|\n"
            "| `aws.ecs.cluster.arn` | string | The ARN of an ECS cluster. |\n"
            "| `aws.ecs.task.arn` | string | The ARN of a running ECS task. |\n"
            "| `aws.ecs.launchtype` | string | The launch type for an ECS task. `ec2`; `fargate` |\n"
            "| `aws.log.group.names` | string[] | The name(s) of the AWS log group(s) an application is writing to. |\n"
            "| `cloud.account.id` | string | The cloud account ID the resource is assigned to. |\n"
            "| `faas.name` | string | The name of the single function that this runtime instance executes. |\n"
            "Requirement level: Recommended. Stability: development.")
    return text, [], ["https://opentelemetry.io/docs/specs/semconv/resource/cloud-provider/aws/ecs/", "`aws.ecs.task.arn`",
                      "`cloud.account.id`", "`faas.name`", "`ec2`; `fargate`"]


def _v7_neg_versions(g: Gen):
    sha, dg = _sha(g), "sha256:" + g.alnum(64, _HEX)
    text = ("requirements.txt\naws-lambda-powertools[tracer]==2.38.1\nboto3==1.34.117\nsentry-sdk==2.5.1\n\n"
            "package.json: \"@aws-sdk/client-s3\": \"^3.592.0\", \"aws-cdk-lib\": \"2.144.0\"\n"
            "Pulumi.yaml: runtime: nodejs \u00b7 @pulumi/aws 6.38.0\n"
            "required_providers { aws = { source = \"hashicorp/aws\", version = \"~> 5.52\" } }\n"
            f"base image public.ecr.aws/lambda/nodejs:20@{dg}\ncommit {sha}\n"
            "Attached policy: arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\n"
            "BillingMode PAY_PER_REQUEST, status ACTIVE, regions us-east-1 and eu-west-1.\n"
            "See https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html")
    return text, [], ["aws-lambda-powertools[tracer]==2.38.1", "boto3==1.34.117", dg, sha,
                      "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "PAY_PER_REQUEST",
                      "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html", "version = \"~> 5.52\""]


def _v7_neg_trace_ids(g: Gen):
    tr, w3, sp, rid, mid = _xray_id(g), g.alnum(32, _HEX), _span_id(g), _uuid(g), _uuid(g)
    text = (f"X-Amzn-Trace-Id: Root={tr};Parent={sp};Sampled=1\n"
            f"traceparent: 00-{w3}-{sp}-01\n"
            f"x-amzn-RequestId: {rid}\nSQS MessageId {mid} was delivered 3 times (maxReceiveCount 3) before moving to the DLQ.\n"
            "Origin AWS::Lambda::Function, fault rate 0.4 %, p99 812 ms at 2024-06-01T09:15:00Z.")
    return text, [], [f"Root={tr};Parent={sp};Sampled=1", f"00-{w3}-{sp}-01", rid, mid, "AWS::Lambda::Function", "2024-06-01T09:15:00Z"]


VARIANTS_7: list[Template] = [
    # Lambda event payloads: API Gateway v1 and v2 (JWT), function URL (IAM), ALB target, SQS, SNS, S3, EventBridge
    # scheduled / ECS task / CodeBuild / ECR / alarm, DynamoDB Streams, Kinesis, CloudWatch Logs (gzip payload decoded),
    # Cognito pre sign-up and pre token, AppSync IAM, Step Functions context, Secrets Manager rotation, Auto Scaling
    # lifecycle, S3 Batch, async-invoke destination (#0-#22)
    _v7_apigw_v1, _v7_apigw_v2_jwt, _v7_lambda_url, _v7_alb_target, _v7_sqs_event, _v7_sns_event, _v7_s3_event,
    _v7_eventbridge_scheduled, _v7_ecs_task_state, _v7_codebuild_event, _v7_ecr_push, _v7_alarm_lambda, _v7_ddb_stream,
    _v7_kinesis, _v7_cwlogs_subscription, _v7_cognito_presignup, _v7_cognito_pretoken, _v7_appsync_iam, _v7_sfn_context,
    _v7_secrets_rotation, _v7_asg_lifecycle, _v7_s3_batch, _v7_async_destination,
    # telemetry: OTel resource JSON, collector debug text, OTEL_RESOURCE_ATTRIBUTES, OTLP spans, ADOT config, X-Ray
    # segment and trace summaries, Powertools Python and TS + EMF, REPORT lines, Lambda JSON logs, CloudWatch agent (#23-#34)
    _v7_otel_resource_json, _v7_otel_debug_text, _v7_otel_env, _v7_otlp_span, _v7_adot_config, _v7_xray_segment,
    _v7_xray_summaries, _v7_powertools_py, _v7_powertools_ts_emf, _v7_lambda_report, _v7_lambda_json_log, _v7_cwagent_config,
    # AWS Tools for PowerShell: Format-List, Format-Table, IAM role, credentials, Lambda list, errors (#35-#40)
    _v7_ps_ec2_fl, _v7_ps_s3bucket_ft, _v7_ps_iam_role, _v7_ps_credential, _v7_ps_lambda_ft, _v7_ps_error,
    # Pulumi preview / stack output / up diff; terraform show -json, tfstate, -json UI; CDK manifest, assets, synth;
    # Serverless deploy; SAM local and logs; Packer build and manifest (#41-#54)
    _v7_pulumi_preview, _v7_pulumi_stack_output, _v7_pulumi_up_diff, _v7_tf_show_json, _v7_tfstate, _v7_tf_json_ui,
    _v7_cdk_manifest, _v7_cdk_assets, _v7_cdk_synth_yaml, _v7_sls_deploy, _v7_sam_local, _v7_sam_logs, _v7_packer_build,
    _v7_packer_manifest,
    # Jupyter notebooks, Sentry event and breadcrumbs, Grafana dashboard and datasource, yace config and metrics,
    # Prometheus ec2_sd (#55-#63)
    _v7_ipynb_s3, _v7_ipynb_sagemaker, _v7_sentry_event, _v7_sentry_breadcrumbs, _v7_grafana_dashboard,
    _v7_grafana_datasource, _v7_yace_config, _v7_yace_metrics, _v7_prom_ec2_sd,
    # negatives (#64-#67)
    _v7_neg_lambda_lines, _v7_neg_semconv, _v7_neg_versions, _v7_neg_trace_ids,
]


# --- variants-8: an eighth held-out list (session 9), written by a helper that never read the engine, its
# packs or tools/gen_vocab.py, from the real formats of the tools and files (Claude Code's tool_use inputs and
# tool results, the Amplify CLI / Gen 2 outputs, AWS Load Balancer Controller and Karpenter CRDs, IAM policy
# grammar, the IAM credential report, S3 Inventory, CUR and Cost Explorer columns), every value made up here.
# Claude Code's own tool traffic (Bash tool_use with aws CLI flags and --query, Edit old_string/new_string over
# config files, Write content, Grep in files_with_matches / content -n / count modes, Glob paths, TodoWrite items,
# Task prompts, WebFetch of console pages) and MCP tool results (an aws-api server, CloudWatch Logs, Cost
# Explorer); frontend and mobile config (aws-exports.js, amplifyconfiguration.json, amplify_outputs.json,
# Next.js / Vite env files, Android strings.xml, iOS Info.plist, Flutter amplifyconfiguration.dart); Kubernetes
# AWS controllers (ALB Ingress and NLB Service annotations, Karpenter NodePool / EC2NodeClass, external-secrets
# SecretStore / ExternalSecret, ACK resources, Helm values, IRSA and Pod Identity associations); policies with
# conditions (S3 bucket policies with aws:SourceVpce / aws:PrincipalOrgID, KMS key policies, SCPs, GitHub OIDC
# trust, aws:SourceAccount / aws:SourceArn, permission boundaries); CSV and tables (IAM credential report,
# S3 Inventory, CUR rows, Cost Explorer CSV, Organizations accounts as table and CSV, Security Hub export,
# AWS Config advanced query); prose in Italian, Turkish, Vietnamese, Hindi, Russian, Indonesian; negatives
# woven in (tool_use IDs, request IDs, UUIDs that are not resources, SHAs, timestamps, versions, enum words,
# regions, policy actions, condition keys, AWS-managed policy ARNs, public docs URLs) and four negative-only
# templates; 64 templates. Measured as it came out (report seed 13, 5 per template): 78.6 % recall (text and JSON
# alike), 57.8 % pass, 95.3 % kept, 27 failing templates (24 only leak a value, 3 only change a must-keep value:
# #38, #43, #52); seed 7 (1 per template): 78.7 %, 61 of 64 must-keep cases kept. The misses: identifiers as path
# segments and file names in Grep / Glob results (accounts/<id>/, <bucket>.json, clusters/<name>/, account-<id>.tf),
# names in TodoWrite prose, a name in a CLI table row under an unknown label, a table name as a `??` default in
# grep -n content; accounts in Cost Explorer Keys / DimensionValueAttributes, in a Cost Explorer CSV ("<id> (name)")
# and in an Organizations CSV Id column (with an account name); app client IDs, a client secret, a bucket and a
# Pinpoint app ID in Android strings.xml and the client ID in an Info.plist key/string pair; Karpenter's discovery
# tag value, bare role name, interruptionQueue and an instanceProfile in a comment; external-secrets remoteRef keys
# (secret names, SSM parameter paths); an ACK Bucket's spec.name; a bucket in arn:aws:s3:*:*:NAME; buckets in
# S3 Inventory and CUR line_item_resource_id columns; names and accounts in Italian, Turkish, Vietnamese, Hindi,
# Russian and Indonesian prose (every value in four of the six). Must-keep values changed: the console's
# key-consolepolicy-3 policy Id, a statement ID apigw-<uuid>, and in a Config query result the SelectFields names
# (accountId, configuration.cidrBlock ...) and a private CIDR. Never tuned to. ----------------------------------


def _toolu(g: Gen) -> str:
    return "toolu_01" + g.alnum(22, _MIXED_ALNUM)


def _tool_use(g: Gen, name: str, inp: dict) -> str:
    return json.dumps({"type": "tool_use", "id": _toolu(g), "name": name, "input": inp}, indent=2)


def _tool_result(g: Gen, content: str, is_error: bool = False) -> str:
    d = {"type": "tool_result", "tool_use_id": _toolu(g), "content": content}
    if is_error:
        d["is_error"] = True
    return json.dumps(d, indent=2)


def _client_id(g: Gen) -> str:
    return g.alnum(26, _LOWER_ALNUM)


def _appsync_id(g: Gen) -> str:
    return g.alnum(26, _LOWER_ALNUM)


# Claude Code tool traffic
def _v8_bash_describe(g: Gen):
    iid, sg, sn, r = g.iid(), g.hexid("sg"), g.hexid("subnet"), g.region()
    cmd = (f"aws ec2 describe-instances --region {r} --instance-ids {iid} "
           f"--filters Name=network-interface.group-id,Values={sg} Name=subnet-id,Values={sn} "
           "--query 'Reservations[].Instances[].{Id:InstanceId,State:State.Name,Ip:PrivateIpAddress}' --output table")
    text = _tool_use(g, "Bash", {"command": cmd, "description": "Check the instance state behind the target group"})
    return text, [iid, sg, sn], ['"name": "Bash"', "Reservations[].Instances[]", "--output table"]


def _v8_bash_query_arn(g: Gen):
    a, r, fn, role = g.account(), g.region(), _fn(g), g.name("pms")
    cmd = (f"aws lambda get-function-configuration --function-name arn:aws:lambda:{r}:{a}:function:{fn} "
           f"--query \"[Role=='arn:aws:iam::{a}:role/{role}', Runtime, LastUpdateStatus]\" --output json && "
           f"aws logs tail /aws/lambda/{fn} --since 15m --format short")
    text = "I'll verify which role the function runs as.\n\n" + _tool_use(g, "Bash", {"command": cmd, "timeout": 120000})
    return text, [a, fn, role], ["--since 15m", "LastUpdateStatus", '"timeout": 120000']


def _v8_bash_s3_sync(g: Gen):
    b, b2, k, r = g.bucket(), g.bucket(), _uuid(g), g.region()
    a = g.account()
    cmd = (f"aws s3 sync ./dist s3://{b}/releases/v2.4.1/ --delete --sse aws:kms "
           f"--sse-kms-key-id arn:aws:kms:{r}:{a}:key/{k} && "
           f"aws s3api put-bucket-replication --bucket {b} --replication-configuration file://repl.json && "
           f"aws s3 ls s3://{b2} --recursive --summarize | tail -3")
    text = _tool_use(g, "Bash", {"command": cmd, "description": "Upload the build and check the replica"})
    return text, [b, b2, k, a], ["--sse aws:kms", "file://repl.json", "v2.4.1"]


def _v8_bash_result_table(g: Gen):
    t1, t2, a, r = g.name(), g.name(), g.account(), g.region()
    out = ("-------------------------------------------------------------\n"
           "|                       DescribeTable                       |\n"
           "+------------------+----------------------------------------+\n"
           f"|  TableName       |  {t1:<38}|\n"
           "|  TableStatus     |  ACTIVE                                |\n"
           "|  BillingMode     |  PAY_PER_REQUEST                       |\n"
           "+------------------+----------------------------------------+\n"
           f"|  StreamArn       |  arn:aws:dynamodb:{r}:{a}:table/{t1}/stream/2024-05-30T11:02:44.117\n"
           f"|  GlobalTableOf   |  {t2:<38}|\n"
           "+------------------+----------------------------------------+")
    return _tool_result(g, out), [t1, t2, a], ["PAY_PER_REQUEST", "DescribeTable", '"type": "tool_result"']


def _v8_edit_tfvars(g: Gen):
    v1, v2, s1, s2, a = g.hexid("vpc"), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet"), g.account()
    c = g.name("pms")
    old = f'vpc_id     = "{v1}"\nsubnet_ids = ["{s1}"]\ncluster_name = "{c}"'
    new = f'vpc_id     = "{v2}"\nsubnet_ids = ["{s1}", "{s2}"]\ncluster_name = "{c}"\nallowed_account_ids = ["{a}"]'
    text = _tool_use(g, "Edit", {"file_path": "/home/dev/infra/envs/prod/terraform.tfvars", "old_string": old,
                                 "new_string": new, "replace_all": False})
    return text, [v1, v2, s1, s2, a, c], ['"name": "Edit"', "/home/dev/infra/envs/prod/terraform.tfvars", '"replace_all": false']


def _v8_edit_yaml(g: Gen):
    a, r, q_old, q_new, role = g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("pms")
    old = f"  QUEUE_URL: https://sqs.{r}.amazonaws.com/{a}/{q_old}\n"
    new = f"  QUEUE_URL: https://sqs.{r}.amazonaws.com/{a}/{q_new}\n  ROLE_ARN: arn:aws:iam::{a}:role/{role}\n"
    text = ("The queue was renamed; updating the ConfigMap.\n" +
            _tool_use(g, "Edit", {"file_path": "k8s/worker/configmap.yaml", "old_string": old, "new_string": new}) +
            "\n" + _tool_result(g, "The file k8s/worker/configmap.yaml has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n"
                                f"    12\t  QUEUE_URL: https://sqs.{r}.amazonaws.com/{a}/{q_new}\n    13\t  ROLE_ARN: arn:aws:iam::{a}:role/{role}"))
    return text, [a, q_old, q_new, role], ["k8s/worker/configmap.yaml", "has been updated"]


def _v8_write_env(g: Gen):
    k, s, b, pool, cid, r = g.akid(), g.secret(), g.bucket(), None, _client_id(g), g.region()
    pool = _pool_id(g, r)
    content = (f"AWS_REGION={r}\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nUPLOADS_BUCKET={b}\n"
               f"COGNITO_USER_POOL_ID={pool}\nCOGNITO_CLIENT_ID={cid}\nLOG_LEVEL=info\n")
    text = _tool_use(g, "Write", {"file_path": "/workspace/api/.env.local", "content": content})
    return text, [k, s, b, pool, cid], ["LOG_LEVEL=info", "/workspace/api/.env.local", '"name": "Write"']


def _v8_grep_files(g: Gen):
    a, b, c = g.account(), g.bucket(), g.name("pms")
    res = (f"Found 4 files\n/repo/infra/accounts/{a}/main.tf\n/repo/infra/accounts/{a}/backend.tf\n"
           f"/repo/apps/uploader/config/{b}.json\n/repo/deploy/clusters/{c}/values.yaml")
    text = (_tool_use(g, "Grep", {"pattern": "kms_key_id", "path": "/repo", "output_mode": "files_with_matches"}) + "\n" +
            _tool_result(g, res))
    return text, [a, b, c], ['"output_mode": "files_with_matches"', "Found 4 files", "kms_key_id"]


def _v8_grep_content(g: Gen):
    a, r, t, fn, iid = g.account(), g.region(), g.name(), _fn(g), g.iid()
    res = (f"src/handlers/orders.ts:14:const TABLE = process.env.TABLE_NAME ?? \"{t}\";\n"
           f"src/handlers/orders.ts:88:  FunctionName: \"arn:aws:lambda:{r}:{a}:function:{fn}\",\n"
           f"scripts/bastion.sh:3:INSTANCE_ID={iid}\n"
           "README.md:41:Set TABLE_NAME before running `npm test`.")
    text = (_tool_use(g, "Grep", {"pattern": "TABLE_NAME|FunctionName|INSTANCE_ID", "output_mode": "content", "-n": True}) +
            "\n" + _tool_result(g, res))
    return text, [a, t, fn, iid], ['"-n": true', "README.md:41:Set TABLE_NAME before running `npm test`."]


def _v8_grep_count(g: Gen):
    b1, b2, a = g.bucket(), g.bucket(), g.account()
    res = (f"terraform/s3/{b1}.tf:6\nterraform/s3/{b2}.tf:3\nterraform/iam/account-{a}.tf:11\n\n"
           "Found 20 total occurrences across 3 files.")
    text = (_tool_use(g, "Grep", {"pattern": "aws_s3_bucket_policy", "glob": "**/*.tf", "output_mode": "count"}) + "\n" +
            _tool_result(g, res))
    return text, [b1, b2, a], ['"output_mode": "count"', "Found 20 total occurrences across 3 files.", "aws_s3_bucket_policy"]


def _v8_glob(g: Gen):
    a1, a2, b, st = g.account(), g.account(), g.bucket(), g.name("pms")
    res = (f"/work/landing-zone/accounts/{a1}/account.yaml\n/work/landing-zone/accounts/{a2}/account.yaml\n"
           f"/work/landing-zone/buckets/{b}/lifecycle.json\n/work/landing-zone/stacks/{st}/template.yaml")
    text = _tool_use(g, "Glob", {"pattern": "**/*.{yaml,json}", "path": "/work/landing-zone"}) + "\n" + _tool_result(g, res)
    return text, [a1, a2, b, st], ['"pattern": "**/*.{yaml,json}"', "/work/landing-zone"]


def _v8_todowrite(g: Gen):
    c, ng, role, sg, a = g.name("pms"), g.name("ms"), g.name("pms"), g.hexid("sg"), g.account()
    todos = [{"content": f"Drain node group {ng} on cluster {c}", "status": "completed", "activeForm": f"Draining {ng}"},
             {"content": f"Attach AmazonEKSWorkerNodePolicy to role {role} in account {a}", "status": "in_progress",
              "activeForm": f"Attaching policy to {role}"},
             {"content": f"Open 443 from {sg} to the control plane", "status": "pending", "activeForm": "Opening 443"}]
    text = _tool_use(g, "TodoWrite", {"todos": todos})
    return text, [c, ng, role, sg, a], ['"status": "in_progress"', "AmazonEKSWorkerNodePolicy", '"name": "TodoWrite"']


def _v8_task_prompt(g: Gen):
    a, r, fn, q, b = g.account(), g.region(), _fn(g), g.name("pms"), g.bucket()
    prompt = (f"Investigate why the Lambda function {fn} in account {a} ({r}) stopped consuming from the SQS queue "
              f"{q}. Check the event source mapping state, the DLQ depth, and whether the execution role can still "
              f"read s3://{b}/config/. Report back the root cause and the exact CLI commands you ran. Do not modify anything.")
    text = _tool_use(g, "Task", {"description": "Investigate stalled consumer", "prompt": prompt, "subagent_type": "general-purpose"})
    return text, [a, fn, q, b], ['"subagent_type": "general-purpose"', "Investigate stalled consumer"]


def _v8_webfetch_console(g: Gen):
    a, r, c, svc, tg = g.account(), g.region(), g.name("pms"), g.name("ms"), g.name("ms")
    page = (f"# Service {svc} | Elastic Container Service\n\nCluster: {c}\nService ARN: arn:aws:ecs:{r}:{a}:service/{c}/{svc}\n"
            f"Status: ACTIVE | Desired tasks: 4 | Running tasks: 2 | Launch type: FARGATE\n\n"
            f"## Load balancing\nTarget group: {tg} (arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{g.alnum(16, _HEX)})\n"
            "Health check grace period: 60 seconds")
    text = (_tool_use(g, "WebFetch", {"url": f"https://{r}.console.aws.amazon.com/ecs/v2/clusters/{c}/services/{svc}/health?region={r}",
                                      "prompt": "Summarise the service health"}) + "\n" + _tool_result(g, page))
    return text, [a, c, svc, tg], ["Launch type: FARGATE", "Health check grace period: 60 seconds"]


def _v8_mcp_aws_api(g: Gen):
    a, r, db, sn, sg, kms = g.account(), g.region(), g.name("pms"), g.name("ms"), g.hexid("sg"), _uuid(g)
    rid = _uuid(g)
    resp = {"DBInstances": [{"DBInstanceIdentifier": db, "DBInstanceClass": "db.r6g.large", "Engine": "aurora-postgresql",
                             "DBInstanceStatus": "available", "DBSubnetGroup": {"DBSubnetGroupName": sn, "SubnetGroupStatus": "Complete"},
                             "VpcSecurityGroups": [{"VpcSecurityGroupId": sg, "Status": "active"}],
                             "KmsKeyId": f"arn:aws:kms:{r}:{a}:key/{kms}",
                             "DBInstanceArn": f"arn:aws:rds:{r}:{a}:db:{db}"}],
            "ResponseMetadata": {"RequestId": rid, "HTTPStatusCode": 200}}
    mcp = {"content": [{"type": "text", "text": json.dumps({"status": "success", "response": resp})}], "isError": False}
    text = ("mcp__awslabs_aws-api-mcp-server__call_aws(cli_command=\"aws rds describe-db-instances\")\n" + json.dumps(mcp))
    return text, [a, db, sn, sg, kms], [rid, "db.r6g.large", "aurora-postgresql", "mcp__awslabs_aws-api-mcp-server__call_aws"]


def _v8_mcp_cwlogs(g: Gen):
    fn, a, r, rid, t = _fn(g), g.account(), g.region(), _uuid(g), g.name()
    qid = _uuid(g)
    res = {"queryId": qid, "status": "Complete",
           "results": [{"@timestamp": "2024-06-03 08:41:12.904", "@logStream": f"2024/06/03/[$LATEST]{g.alnum(32, _HEX)}",
                        "@message": f"[ERROR] {rid} AccessDeniedException: User: arn:aws:sts::{a}:assumed-role/{fn}-role/{fn} "
                                    f"is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:{r}:{a}:table/{t}"}],
           "statistics": {"recordsMatched": 1.0, "recordsScanned": 4412.0}}
    text = (f"Tool execute_log_insights_query (cloudwatch-logs MCP) with log_group_names=[\"/aws/lambda/{fn}\"]\n"
            f"returned:\n{json.dumps(res, indent=2)}")
    return text, [fn, a, t], [qid, rid, "dynamodb:PutItem", "AccessDeniedException"]


def _v8_mcp_cost(g: Gen):
    a1, a2 = g.account(), g.account()
    res = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
           "ResultsByTime": [{"TimePeriod": {"Start": "2024-05-01", "End": "2024-06-01"}, "Estimated": False,
                              "Groups": [{"Keys": [a1, "Amazon Elastic Compute Cloud - Compute"],
                                          "Metrics": {"UnblendedCost": {"Amount": "4211.0912", "Unit": "USD"}}},
                                         {"Keys": [a2, "Amazon Simple Storage Service"],
                                          "Metrics": {"UnblendedCost": {"Amount": "388.5020", "Unit": "USD"}}}]}],
           "DimensionValueAttributes": [{"Value": a1, "Attributes": {"description": "prod-workloads"}},
                                        {"Value": a2, "Attributes": {"description": "data-lake"}}]}
    text = "cost-explorer MCP get_cost_and_usage (group by LINKED_ACCOUNT, SERVICE):\n" + json.dumps(res)
    return text, [a1, a2], ["Amazon Elastic Compute Cloud - Compute", "UnblendedCost", "2024-05-01", '"Key": "LINKED_ACCOUNT"']


# frontend and mobile config
def _v8_aws_exports(g: Gen):
    r = g.region()
    pool, cid, ipid, api, b, key = _pool_id(g, r), _client_id(g), _uuid(g), _appsync_id(g), None, "da2-" + g.alnum(26, _LOWER_ALNUM)
    b = f"{g.name('ms')}{g.alnum(6, _HEX)}-dev"
    text = ("/* eslint-disable */\n// WARNING: DO NOT EDIT. This file is automatically generated by AWS Amplify. It will be overwritten.\n\n"
            "const awsmobile = {\n"
            f'    "aws_project_region": "{r}",\n'
            f'    "aws_appsync_graphqlEndpoint": "https://{api}.appsync-api.{r}.amazonaws.com/graphql",\n'
            f'    "aws_appsync_region": "{r}",\n    "aws_appsync_authenticationType": "AMAZON_COGNITO_USER_POOLS",\n'
            f'    "aws_appsync_apiKey": "{key}",\n'
            f'    "aws_cognito_identity_pool_id": "{r}:{ipid}",\n    "aws_cognito_region": "{r}",\n'
            f'    "aws_user_pools_id": "{pool}",\n    "aws_user_pools_web_client_id": "{cid}",\n'
            '    "oauth": {},\n    "aws_cognito_username_attributes": ["EMAIL"],\n'
            f'    "aws_user_files_s3_bucket": "{b}",\n    "aws_user_files_s3_bucket_region": "{r}"\n}};\n\nexport default awsmobile;\n')
    return text, [pool, cid, ipid, api, b, key], ["AMAZON_COGNITO_USER_POOLS", '"aws_cognito_username_attributes": ["EMAIL"]',
                                                  "export default awsmobile;"]


def _v8_amplifyconfiguration(g: Gen):
    r = g.region()
    pool, cid, ipid, b, api = _pool_id(g, r), _client_id(g), _uuid(g), f"{g.name('ms')}-storage-{g.alnum(6, _HEX)}", _appsync_id(g)
    doc = {"UserAgent": "aws-amplify-cli/2.0", "Version": "1.0",
           "auth": {"plugins": {"awsCognitoAuthPlugin": {"UserAgent": "aws-amplify-cli/0.1.0", "Version": "0.1.0",
                                                         "IdentityManager": {"Default": {}},
                                                         "CredentialsProvider": {"CognitoIdentity": {"Default": {"PoolId": f"{r}:{ipid}", "Region": r}}},
                                                         "CognitoUserPool": {"Default": {"PoolId": pool, "AppClientId": cid, "Region": r}},
                                                         "Auth": {"Default": {"authenticationFlowType": "USER_SRP_AUTH",
                                                                              "usernameAttributes": ["EMAIL"]}}}}},
           "api": {"plugins": {"awsAPIPlugin": {"ordersapi": {"endpointType": "GraphQL",
                                                              "endpoint": f"https://{api}.appsync-api.{r}.amazonaws.com/graphql",
                                                              "region": r, "authorizationType": "AMAZON_COGNITO_USER_POOLS"}}}},
           "storage": {"plugins": {"awsS3StoragePlugin": {"bucket": b, "region": r, "defaultAccessLevel": "guest"}}}}
    return "amplifyconfiguration.json\n" + json.dumps(doc, indent=4), [pool, cid, ipid, b, api], [
        '"authenticationFlowType": "USER_SRP_AUTH"', '"UserAgent": "aws-amplify-cli/2.0"', '"defaultAccessLevel": "guest"']


def _v8_amplify_outputs(g: Gen):
    r = g.region()
    pool, cid, ipid, b, api, key = _pool_id(g, r), _client_id(g), _uuid(g), f"amplify-{g.name('ms')}-{g.alnum(10, _LOWER_ALNUM)}", _appsync_id(g), "da2-" + g.alnum(26, _LOWER_ALNUM)
    doc = {"auth": {"user_pool_id": pool, "aws_region": r, "user_pool_client_id": cid, "identity_pool_id": f"{r}:{ipid}",
                    "mfa_methods": [], "standard_required_attributes": ["email"], "username_attributes": ["email"],
                    "user_verification_types": ["email"], "mfa_configuration": "NONE",
                    "password_policy": {"min_length": 8, "require_numbers": True}, "unauthenticated_identities_enabled": True},
           "data": {"url": f"https://{api}.appsync-api.{r}.amazonaws.com/graphql", "aws_region": r, "api_key": key,
                    "default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
                    "authorization_types": ["API_KEY", "AWS_IAM"]},
           "storage": {"aws_region": r, "bucket_name": b,
                       "buckets": [{"name": "productImages", "bucket_name": b, "aws_region": r}]},
           "version": "1.3"}
    return json.dumps(doc, indent=2), [pool, cid, ipid, b, api, key], ['"mfa_configuration": "NONE"', '"version": "1.3"',
                                                                      '"name": "productImages"']


def _v8_next_env(g: Gen):
    r = g.region()
    pool, cid, ipid, b, api = _pool_id(g, r), _client_id(g), _uuid(g), g.bucket(), _api_id(g)
    dist = "E" + g.alnum(13, _UPPER_ALNUM)
    text = ("# .env.production (committed by mistake, see PR #412)\n"
            f"NEXT_PUBLIC_AWS_REGION={r}\nNEXT_PUBLIC_USER_POOL_ID={pool}\nNEXT_PUBLIC_USER_POOL_CLIENT_ID={cid}\n"
            f"NEXT_PUBLIC_IDENTITY_POOL_ID={r}:{ipid}\nNEXT_PUBLIC_API_URL=https://{api}.execute-api.{r}.amazonaws.com/prod\n"
            f"NEXT_PUBLIC_ASSETS_BUCKET={b}\nCLOUDFRONT_DISTRIBUTION_ID={dist}\nNEXT_TELEMETRY_DISABLED=1\n")
    return text, [pool, cid, ipid, b, api, dist], ["NEXT_TELEMETRY_DISABLED=1", "PR #412"]


def _v8_vite_env(g: Gen):
    r = g.region()
    pool, cid, b, a, t = _pool_id(g, r), _client_id(g), g.bucket(), g.account(), g.name()
    dom = f"{g.name('ms')}-{g.alnum(6, _LOWER_ALNUM)}"
    text = (f"VITE_COGNITO_DOMAIN={dom}.auth.{r}.amazoncognito.com\nVITE_USER_POOL_ID={pool}\nVITE_CLIENT_ID={cid}\n"
            f"VITE_UPLOAD_BUCKET={b}\nVITE_EVENTS_TABLE={t}\nVITE_AWS_ACCOUNT={a}\nVITE_APP_VERSION=3.18.0\n")
    return text, [pool, cid, b, a, t, dom], ["VITE_APP_VERSION=3.18.0"]


def _v8_android_strings(g: Gen):
    r = g.region()
    pool, cid, ipid, b, sec = _pool_id(g, r), _client_id(g), _uuid(g), g.bucket(), g.alnum(52, _LOWER_ALNUM)
    pin = g.alnum(32, _HEX)
    text = ('<?xml version="1.0" encoding="utf-8"?>\n<resources>\n    <string name="app_name">Orders</string>\n'
            f'    <string name="cognito_pool_id">{pool}</string>\n    <string name="cognito_client_id">{cid}</string>\n'
            f'    <string name="cognito_client_secret">{sec}</string>\n'
            f'    <string name="identity_pool_id">{r}:{ipid}</string>\n    <string name="s3_bucket">{b}</string>\n'
            f'    <string name="pinpoint_app_id">{pin}</string>\n    <string name="aws_region">{r}</string>\n</resources>')
    return text, [pool, cid, ipid, b, sec, pin], ['<string name="app_name">Orders</string>', 'encoding="utf-8"']


def _v8_info_plist(g: Gen):
    r = g.region()
    pool, cid, ipid, api = _pool_id(g, r), _client_id(g), _uuid(g), _appsync_id(g)
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
            '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n'
            '\t<key>CFBundleShortVersionString</key>\n\t<string>5.2.0</string>\n'
            f'\t<key>AWSCognitoUserPoolId</key>\n\t<string>{pool}</string>\n'
            f'\t<key>AWSCognitoAppClientId</key>\n\t<string>{cid}</string>\n'
            f'\t<key>AWSCognitoIdentityPoolId</key>\n\t<string>{r}:{ipid}</string>\n'
            f'\t<key>GraphQLEndpoint</key>\n\t<string>https://{api}.appsync-api.{r}.amazonaws.com/graphql</string>\n'
            '</dict>\n</plist>')
    return text, [pool, cid, ipid, api], ["<string>5.2.0</string>", "CFBundleShortVersionString",
                                          "http://www.apple.com/DTDs/PropertyList-1.0.dtd"]


def _v8_flutter_config(g: Gen):
    r = g.region()
    pool, cid, ipid, b = _pool_id(g, r), _client_id(g), _uuid(g), f"{g.name('ms')}{g.alnum(5, _HEX)}-prod"
    inner = {"UserAgent": "aws-amplify-cli/2.0", "Version": "1.0",
             "auth": {"plugins": {"awsCognitoAuthPlugin": {"CognitoUserPool": {"Default": {"PoolId": pool, "AppClientId": cid, "Region": r}},
                                                           "CredentialsProvider": {"CognitoIdentity": {"Default": {"PoolId": f"{r}:{ipid}", "Region": r}}}}}},
             "storage": {"plugins": {"awsS3StoragePlugin": {"bucket": b, "region": r}}}}
    text = ("// lib/amplifyconfiguration.dart\nconst amplifyconfig = '''" + json.dumps(inner, indent=2) + "''';\n\n"
            "Future<void> _configureAmplify() async {\n  await Amplify.addPlugins([AmplifyAuthCognito(), AmplifyStorageS3()]);\n"
            "  await Amplify.configure(amplifyconfig);\n}")
    return text, [pool, cid, ipid, b], ["AmplifyAuthCognito()", "await Amplify.configure(amplifyconfig);"]


def _v8_amplify_js_configure(g: Gen):
    r = g.region()
    pool, cid, ipid, dom, b = _pool_id(g, r), _client_id(g), _uuid(g), f"{g.name('ms')}-{g.alnum(8, _LOWER_ALNUM)}", g.bucket()
    text = ("import { Amplify } from 'aws-amplify';\n\nAmplify.configure({\n  Auth: {\n    Cognito: {\n"
            f"      userPoolId: '{pool}',\n      userPoolClientId: '{cid}',\n      identityPoolId: '{r}:{ipid}',\n"
            "      loginWith: {\n        oauth: {\n"
            f"          domain: '{dom}.auth.{r}.amazoncognito.com',\n"
            "          scopes: ['openid', 'email'],\n          redirectSignIn: ['http://localhost:3000/'],\n"
            "          responseType: 'code',\n        },\n      },\n    },\n  },\n"
            f"  Storage: {{ S3: {{ bucket: '{b}', region: '{r}' }} }},\n}});\n")
    return text, [pool, cid, ipid, dom, b], ["import { Amplify } from 'aws-amplify';", "responseType: 'code'", "scopes: ['openid', 'email']"]


# Kubernetes AWS controllers
def _v8_alb_ingress(g: Gen):
    a, r, s1, s2, sg, cert, waf = g.account(), g.region(), g.hexid("subnet"), g.hexid("subnet"), g.hexid("sg"), _uuid(g), _uuid(g)
    acl, grp = g.name("pms"), g.name("ms")
    text = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: storefront\n  annotations:\n"
            "    alb.ingress.kubernetes.io/scheme: internet-facing\n    alb.ingress.kubernetes.io/target-type: ip\n"
            f"    alb.ingress.kubernetes.io/subnets: {s1}, {s2}\n    alb.ingress.kubernetes.io/security-groups: {sg}\n"
            f"    alb.ingress.kubernetes.io/certificate-arn: arn:aws:acm:{r}:{a}:certificate/{cert}\n"
            f"    alb.ingress.kubernetes.io/wafv2-acl-arn: arn:aws:wafv2:{r}:{a}:regional/webacl/{acl}/{waf}\n"
            f"    alb.ingress.kubernetes.io/group.name: {grp}\n"
            "    alb.ingress.kubernetes.io/listen-ports: '[{\"HTTP\": 80}, {\"HTTPS\": 443}]'\n"
            "    alb.ingress.kubernetes.io/ssl-policy: ELBSecurityPolicy-TLS13-1-2-2021-06\nspec:\n  ingressClassName: alb\n")
    return text, [a, s1, s2, sg, cert, waf, acl, grp], ["alb.ingress.kubernetes.io/target-type: ip",
                                                       "ELBSecurityPolicy-TLS13-1-2-2021-06", "ingressClassName: alb"]


def _v8_nlb_service(g: Gen):
    s1, s2, eip1, eip2, a, r, cert = g.hexid("subnet"), g.hexid("subnet"), g.hexid("eipalloc"), g.hexid("eipalloc"), g.account(), g.region(), _uuid(g)
    tg = g.name("ms")
    text = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: mqtt-gateway\n  annotations:\n"
            "    service.beta.kubernetes.io/aws-load-balancer-type: external\n"
            "    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n"
            "    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing\n"
            f"    service.beta.kubernetes.io/aws-load-balancer-subnets: {s1},{s2}\n"
            f"    service.beta.kubernetes.io/aws-load-balancer-eip-allocations: {eip1},{eip2}\n"
            f"    service.beta.kubernetes.io/aws-load-balancer-ssl-cert: arn:aws:acm:{r}:{a}:certificate/{cert}\n"
            f"    service.beta.kubernetes.io/aws-load-balancer-name: {tg}\n"
            "spec:\n  type: LoadBalancer\n  loadBalancerClass: service.k8s.aws/nlb\n  ports:\n    - port: 8883\n")
    return text, [s1, s2, eip1, eip2, a, cert, tg], ["loadBalancerClass: service.k8s.aws/nlb",
                                                    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip"]


def _v8_karpenter_nodeclass(g: Gen):
    c, s1, s2, sg, ami, role, a = g.name("pms"), g.hexid("subnet"), g.hexid("subnet"), g.hexid("sg"), g.hexid("ami"), g.name("pms"), g.account()
    text = ("apiVersion: karpenter.k8s.aws/v1\nkind: EC2NodeClass\nmetadata:\n  name: default\nspec:\n"
            f"  role: \"{role}\"\n  amiSelectorTerms:\n    - id: \"{ami}\"\n    - alias: al2023@v20240807\n"
            f"  subnetSelectorTerms:\n    - tags:\n        karpenter.sh/discovery: \"{c}\"\n    - id: {s1}\n    - id: {s2}\n"
            f"  securityGroupSelectorTerms:\n    - id: {sg}\n    - tags:\n        karpenter.sh/discovery: \"{c}\"\n"
            "  metadataOptions:\n    httpTokens: required\n    httpPutResponseHopLimit: 1\n"
            f"  tags:\n    team: platform\n    billing-account: \"{a}\"\n")
    return text, [c, s1, s2, sg, ami, role, a], ["apiVersion: karpenter.k8s.aws/v1", "alias: al2023@v20240807", "httpTokens: required"]


def _v8_karpenter_nodepool(g: Gen):
    c, prof, a, q = g.name("pms"), g.name("pms"), g.account(), g.name("pms")
    text = ("apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata:\n  name: general\nspec:\n  template:\n    spec:\n"
            "      requirements:\n        - key: karpenter.k8s.aws/instance-category\n          operator: In\n          values: [\"c\", \"m\", \"r\"]\n"
            "        - key: karpenter.sh/capacity-type\n          operator: In\n          values: [\"spot\", \"on-demand\"]\n"
            "      nodeClassRef:\n        group: karpenter.k8s.aws\n        kind: EC2NodeClass\n        name: default\n"
            "  limits:\n    cpu: 1000\n  disruption:\n    consolidationPolicy: WhenEmptyOrUnderutilized\n    consolidateAfter: 1m\n"
            "---\n# helm values for the controller\nsettings:\n"
            f"  clusterName: {c}\n  interruptionQueue: {q}\n"
            f"serviceAccount:\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/KarpenterController-{c}\n"
            f"# legacy v1beta1: instanceProfile: {prof}\n")
    return text, [c, prof, a, q], ["consolidationPolicy: WhenEmptyOrUnderutilized", "karpenter.k8s.aws/instance-category",
                                   "values: [\"spot\", \"on-demand\"]"]


def _v8_external_secrets(g: Gen):
    a, r, role, sec, ps = g.account(), g.region(), g.name("pms"), f"prod/{g.name('ms')}/db", f"/{g.name('ms')}/prod/api-key"
    text = ("apiVersion: external-secrets.io/v1beta1\nkind: SecretStore\nmetadata:\n  name: aws-sm\nspec:\n  provider:\n    aws:\n"
            f"      service: SecretsManager\n      region: {r}\n      role: arn:aws:iam::{a}:role/{role}\n"
            "      auth:\n        jwt:\n          serviceAccountRef:\n            name: external-secrets-sa\n---\n"
            "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: db-credentials\nspec:\n"
            "  refreshInterval: 1h\n  secretStoreRef:\n    name: aws-sm\n    kind: SecretStore\n  target:\n    name: db-credentials\n"
            f"  data:\n    - secretKey: password\n      remoteRef:\n        key: {sec}\n        property: password\n"
            f"    - secretKey: api-key\n      remoteRef:\n        key: {ps}\n")
    return text, [a, role, sec, ps], ["service: SecretsManager", "refreshInterval: 1h", "external-secrets.io/v1beta1"]


def _v8_ack_resources(g: Gen):
    b, t, a, r, k = g.bucket(), g.name(), g.account(), g.region(), _uuid(g)
    text = ("apiVersion: s3.services.k8s.aws/v1alpha1\nkind: Bucket\nmetadata:\n  name: uploads\nspec:\n"
            f"  name: {b}\n  encryption:\n    rules:\n      - applyServerSideEncryptionByDefault:\n          sseAlgorithm: aws:kms\n"
            f"          kmsMasterKeyID: arn:aws:kms:{r}:{a}:key/{k}\n---\n"
            "apiVersion: dynamodb.services.k8s.aws/v1alpha1\nkind: Table\nmetadata:\n  name: sessions\nspec:\n"
            f"  tableName: {t}\n  billingMode: PAY_PER_REQUEST\n  keySchema:\n    - attributeName: pk\n      keyType: HASH\n"
            f"status:\n  ackResourceMetadata:\n    arn: arn:aws:dynamodb:{r}:{a}:table/{t}\n    ownerAccountID: \"{a}\"\n    region: {r}\n")
    return text, [b, t, a, k], ["s3.services.k8s.aws/v1alpha1", "keyType: HASH", "sseAlgorithm: aws:kms"]


def _v8_helm_lbc_values(g: Gen):
    c, v, a, role, r = g.name("pms"), g.hexid("vpc"), g.account(), g.name("pms"), g.region()
    text = ("$ helm upgrade --install aws-load-balancer-controller eks/aws-load-balancer-controller -n kube-system \\\n"
            f"    --set clusterName={c} --set region={r} --set vpcId={v} \\\n"
            "    --set serviceAccount.create=false --set serviceAccount.name=aws-load-balancer-controller --version 1.8.1\n\n"
            f"# values-prod.yaml\nclusterName: {c}\nregion: {r}\nvpcId: {v}\nserviceAccount:\n  annotations:\n"
            f"    eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\nenableServiceMutatorWebhook: false\n")
    return text, [c, v, a, role], ["--version 1.8.1", "enableServiceMutatorWebhook: false", "eks/aws-load-balancer-controller"]


def _v8_pod_identity(g: Gen):
    c, a, role, assoc, ns = g.name("pms"), g.account(), g.name("pms"), "a-" + g.alnum(17, _LOWER_ALNUM), g.pick(["payments", "ingest", "batch"])
    r = g.region()
    out = {"association": {"clusterName": c, "namespace": ns, "serviceAccount": "worker",
                           "roleArn": f"arn:aws:iam::{a}:role/{role}",
                           "associationArn": f"arn:aws:eks:{r}:{a}:podidentityassociation/{c}/{assoc}",
                           "associationId": assoc, "tags": {}, "createdAt": "2024-06-02T10:11:12.345000+00:00",
                           "modifiedAt": "2024-06-02T10:11:12.345000+00:00"}}
    text = (f"$ aws eks create-pod-identity-association --cluster-name {c} --namespace {ns} --service-account worker "
            f"--role-arn arn:aws:iam::{a}:role/{role}\n" + json.dumps(out, indent=4))
    return text, [c, a, role, assoc], ['"serviceAccount": "worker"', "2024-06-02T10:11:12.345000+00:00"]


def _v8_irsa_trust(g: Gen):
    a, r, oidc, ns, sa = g.account(), g.region(), g.alnum(32, "0123456789ABCDEF"), g.pick(["kube-system", "monitoring"]), g.pick(["ebs-csi-controller-sa", "cluster-autoscaler"])
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{a}:oidc-provider/oidc.eks.{r}.amazonaws.com/id/{oidc}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"oidc.eks.{r}.amazonaws.com/id/{oidc}:sub": f"system:serviceaccount:{ns}:{sa}",
                                       f"oidc.eks.{r}.amazonaws.com/id/{oidc}:aud": "sts.amazonaws.com"}}}]}
    return "trust-policy.json for the IRSA role:\n" + json.dumps(doc, indent=2), [a, oidc], [
        "sts:AssumeRoleWithWebIdentity", f"system:serviceaccount:{ns}:{sa}", '"2012-10-17"']


def _v8_kubectl_events_lbc(g: Gen):
    sg, s1, a, r, cert = g.hexid("sg"), g.hexid("subnet"), g.account(), g.region(), _uuid(g)
    text = ("$ kubectl describe ingress web -n storefront\n...\nEvents:\n  Type     Reason            Age   From     Message\n"
            "  ----     ------            ----  ----     -------\n"
            f"  Warning  FailedDeployModel  42s   ingress  Failed deploy model due to AccessDenied: User: arn:aws:sts::{a}:assumed-role/"
            f"AmazonEKSLoadBalancerControllerRole/1717405342123456789 is not authorized to perform: ec2:AuthorizeSecurityGroupIngress "
            f"on resource: arn:aws:ec2:{r}:{a}:security-group/{sg}\n"
            f"  Warning  FailedBuildModel   12s   ingress  Failed build model due to couldn't auto-discover subnets: subnet {s1} "
            "is not tagged with kubernetes.io/role/elb\n"
            f"  Normal   SuccessfullyReconciled  3s  ingress  certificate arn:aws:acm:{r}:{a}:certificate/{cert} attached")
    return text, [sg, s1, a, cert], ["ec2:AuthorizeSecurityGroupIngress", "kubernetes.io/role/elb", "FailedDeployModel"]


# policies with conditions
def _v8_bucket_policy_vpce(g: Gen):
    b, vpce, vpc, o = g.bucket(), g.hexid("vpce"), g.hexid("vpc"), g.org()
    doc = {"Version": "2012-10-17", "Id": "RestrictToVpce", "Statement": [
        {"Sid": "DenyOutsideVpce", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"],
         "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        {"Sid": "AllowOrgRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"],
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": o, "aws:SourceVpc": vpc}}}]}
    return json.dumps(doc, indent=2), [b, vpce, vpc, o], ["aws:SourceVpce", "aws:PrincipalOrgID", '"s3:GetObject"', '"Sid": "DenyOutsideVpce"']


def _v8_bucket_policy_cloudtrail(g: Gen):
    b, a, r, trail = g.bucket(), g.account(), g.region(), g.name("pms")
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{b}",
         "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:{r}:{a}:trail/{trail}"}}},
        {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/AWSLogs/{a}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": a}}}]}
    return json.dumps(doc), [b, a, trail], ["cloudtrail.amazonaws.com", "bucket-owner-full-control", "s3:x-amz-acl", "aws:SourceAccount"]


def _v8_kms_key_policy(g: Gen):
    a, a2, role, role2, r = g.account(), g.account(), g.name("pms"), g.name("pms"), g.region()
    doc = {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow use of the key", "Effect": "Allow",
         "Principal": {"AWS": [f"arn:aws:iam::{a}:role/{role}", f"arn:aws:iam::{a2}:role/{role2}"]},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{r}.amazonaws.com", "kms:CallerAccount": [a, a2]}}}]}
    return json.dumps(doc, indent=4), [a, a2, role, role2], ["kms:ViaService", "kms:GenerateDataKey*", "key-consolepolicy-3"]


def _v8_scp(g: Gen):
    a, role, ou = g.account(), g.name("pms"), "ou-" + g.alnum(4, _LOWER_ALNUM) + "-" + g.alnum(8, _LOWER_ALNUM)
    o, pid = g.org(), "p-" + g.alnum(8, _LOWER_ALNUM)
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyLeaveOrg", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
        {"Sid": "RegionLock", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "support:*"], "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]},
                       "ArnNotLike": {"aws:PrincipalARN": f"arn:aws:iam::{a}:role/{role}"}}}]}
    text = (f"$ aws organizations create-policy --type SERVICE_CONTROL_POLICY --name region-lock --content file://scp.json\n"
            f"{json.dumps(doc, indent=2)}\n$ aws organizations attach-policy --policy-id {pid} --target-id {ou}\n"
            f"# org {o}")
    return text, [a, role, ou, o, pid], ["SERVICE_CONTROL_POLICY", "aws:RequestedRegion", "organizations:LeaveOrganization"]


def _v8_github_oidc_trust(g: Gen):
    a, org_, repo = g.account(), g.pick(["kestrel-labs", "orion-platform", "nimbus-eng"]), g.name("ms")
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                      "StringLike": {"token.actions.githubusercontent.com:sub": f"repo:{org_}/{repo}:ref:refs/heads/main"}}}]}
    return json.dumps(doc, indent=2), [a], ["token.actions.githubusercontent.com:sub", "sts.amazonaws.com",
                                            f"repo:{org_}/{repo}:ref:refs/heads/main"]


def _v8_sns_topic_policy(g: Gen):
    a, r, t, b = g.account(), g.region(), g.name("pms"), g.bucket()
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowS3Publish", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "SNS:Publish",
        "Resource": f"arn:aws:sns:{r}:{a}:{t}",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:*:*:{b}"}, "StringEquals": {"aws:SourceAccount": a}}}]}
    text = (f"aws sns set-topic-attributes --topic-arn arn:aws:sns:{r}:{a}:{t} --attribute-name Policy "
            f"--attribute-value '{json.dumps(doc)}'")
    return text, [a, t, b], ["SNS:Publish", "--attribute-name Policy", "aws:SourceArn"]


def _v8_permission_boundary(g: Gen):
    a, u, pb, b = g.account(), g.person().replace(".", "-"), g.name("pms"), g.bucket()
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ServiceBoundaries", "Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:Describe*"], "Resource": "*"},
        {"Sid": "NoBoundaryChange", "Effect": "Deny",
         "Action": ["iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"],
         "Resource": f"arn:aws:iam::{a}:user/{u}",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": f"arn:aws:iam::{a}:policy/{pb}"}}},
        {"Sid": "ProtectLogs", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{b}/*"}]}
    text = (f"$ aws iam put-user-permissions-boundary --user-name {u} --permissions-boundary arn:aws:iam::{a}:policy/{pb}\n"
            f"$ aws iam get-policy-version --policy-arn arn:aws:iam::{a}:policy/{pb} --version-id v3 --query PolicyVersion.Document\n"
            + json.dumps(doc, indent=2) +
            "\n$ aws iam attach-user-policy --user-name " + u + " --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess")
    return text, [a, u, pb, b], ["iam:PermissionsBoundary", "arn:aws:iam::aws:policy/ReadOnlyAccess", "--version-id v3"]


def _v8_lambda_resource_policy(g: Gen):
    a, a2, r, fn, api, rid = g.account(), g.account(), g.region(), _fn(g), _api_id(g), _uuid(g)
    stmt = {"Sid": f"apigw-{rid}", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:{r}:{a}:function:{fn}",
            "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:{r}:{a}:{api}/*/POST/orders"}}}
    out = {"Policy": json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": [stmt]}), "RevisionId": _uuid(g)}
    text = (f"$ aws lambda add-permission --function-name {fn} --statement-id apigw-{rid} --action lambda:InvokeFunction "
            f"--principal apigateway.amazonaws.com --source-account {a2}\n$ aws lambda get-policy --function-name {fn}\n"
            + json.dumps(out, indent=4))
    return text, [a, a2, fn, api], ["lambda:InvokeFunction", "apigateway.amazonaws.com", rid]


def _v8_ecr_repo_policy(g: Gen):
    a1, a2, o, repo = g.account(), g.account(), g.org(), f"{g.name('ms')}/{g.name('ms')}"
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": "CrossAccountPull", "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{a1}:root", f"arn:aws:iam::{a2}:root"]},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{o}/r-{g.alnum(4, _LOWER_ALNUM)}/ou-*"]}}}]}
    text = f"ECR repository {repo} policy:\n```json\n{json.dumps(doc, indent=2)}\n```"
    return text, [a1, a2, o, repo], ["ecr:GetDownloadUrlForLayer", "aws:PrincipalOrgPaths", "ForAnyValue:StringLike"]


# CSV and tabular exports
def _v8_credential_report(g: Gen):
    a = g.account()
    u1, u2 = g.person().replace(".", "-"), g.name("ms") + "-ci"
    hdr = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
           "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
           "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
           "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated")
    rows = [f"<root_account>,arn:aws:iam::{a}:root,2019-03-11T09:12:44+00:00,not_supported,2024-05-30T07:01:12+00:00,not_supported,"
            "not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            f"{u1},arn:aws:iam::{a}:user/{u1},2021-07-02T14:20:01+00:00,true,2024-06-01T08:55:10+00:00,2024-01-15T10:00:00+00:00,"
            "N/A,true,true,2023-02-10T12:00:00+00:00,2024-06-02T09:00:00+00:00,eu-west-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            f"{u2},arn:aws:iam::{a}:user/automation/{u2},2022-11-20T16:45:33+00:00,false,N/A,N/A,N/A,false,true,"
            "2022-11-20T16:45:34+00:00,2024-06-02T23:59:00+00:00,us-east-1,ecr,true,2023-08-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"]
    text = "aws iam get-credential-report --query Content --output text | base64 -d\n" + hdr + "\n" + "\n".join(rows)
    return text, [a, u1, u2], ["<root_account>", "not_supported", "access_key_1_last_used_service"]


def _v8_s3_inventory(g: Gen):
    b = g.bucket()
    rows = []
    for _ in range(3):
        key = f"uploads/{g.alnum(8, _HEX)}/{g.pick(['invoice', 'avatar', 'export'])}.{g.pick(['pdf', 'png', 'csv'])}"
        rows.append(f'"{b}","{key}","{g.r.randint(1000, 9000000)}","2024-05-{g.r.randint(10, 31)}T11:02:33.000Z",'
                    f'"{g.alnum(32, _HEX)}","STANDARD","false","","SSE-KMS"')
    text = ("S3 Inventory CSV (no header; fields Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, "
            "ReplicationStatus, EncryptionStatus):\n" + "\n".join(rows))
    return text, [b], ['"STANDARD","false","","SSE-KMS"', "IsMultipartUploaded"]


def _v8_cur_rows(g: Gen):
    a1, a2, iid, b, r = g.account(), g.account(), g.iid(), g.bucket(), g.region()
    vol, fn = g.hexid("vol"), _fn(g)
    hdr = ("identity_line_item_id,bill_payer_account_id,line_item_usage_account_id,line_item_line_item_type,"
           "line_item_product_code,line_item_usage_type,line_item_resource_id,line_item_unblended_cost")
    li = [g.alnum(52, _LOWER_ALNUM) for _ in range(4)]
    rows = [f"{li[0]},{a1},{a2},Usage,AmazonEC2,EUW1-BoxUsage:m6i.large,{iid},2.304",
            f"{li[1]},{a1},{a2},Usage,AmazonEC2,EUW1-EBS:VolumeUsage.gp3,{vol},0.512",
            f"{li[2]},{a1},{a2},Usage,AmazonS3,EUW1-TimedStorage-ByteHrs,{b},0.0871",
            f"{li[3]},{a1},{a2},Usage,AWSLambda,EUW1-Lambda-GB-Second,arn:aws:lambda:{r}:{a2}:function:{fn},0.0032"]
    text = "SELECT ... FROM cur_db.cur_table LIMIT 4 (Athena results, CSV):\n" + hdr + "\n" + "\n".join(rows)
    return text, [a1, a2, iid, b, vol, fn], [li[0], "EUW1-BoxUsage:m6i.large", "line_item_resource_id", "AmazonEC2"]


def _v8_cost_explorer_csv(g: Gen):
    a1, a2, a3 = g.account(), g.account(), g.account()
    text = ("Linked account,Linked account name,2024-04,2024-05,Total\n"
            f"{a1} (prod-workloads),prod-workloads,\"12,402.11\",\"13,018.40\",\"25,420.51\"\n"
            f"{a2} (shared-services),shared-services,\"3,881.02\",\"3,902.77\",\"7,783.79\"\n"
            f"{a3} (sandbox),sandbox,212.90,188.05,400.95\n"
            "Total costs,,\"16,496.03\",\"17,109.22\",\"33,605.25\"")
    return text, [a1, a2, a3], ["Total costs", "2024-04", "\"33,605.25\""]


def _v8_org_accounts_table(g: Gen):
    a1, a2, a3, o = g.account(), g.account(), g.account(), g.org()
    e = [f"aws+{g.name('ms')}@{g.pick(['kestrel.io', 'orion-labs.dev'])}" for _ in range(3)]

    def row(a, n, m):
        return f"||  arn:aws:organizations::{a1}:account/{o}/{a}  |  {m:<34}|  {a}  |  {n:<16}|  ACTIVE  ||"
    text = ("$ aws organizations list-accounts --output table\n"
            "-----------------------------------------------------------------------------------------------------------\n"
            "|                                               ListAccounts                                              |\n"
            "+---------------------------------------------------------------------------------------------------------+\n"
            "||                                                Accounts                                               ||\n"
            "|+---------------------------------------------------------+------------------------------------+--------+|\n"
            "||                           Arn                           |               Email                |   Id   ||\n"
            f"{row(a1, 'management', e[0])}\n{row(a2, 'log-archive', e[1])}\n{row(a3, 'payments-prod', e[2])}")
    return text, [a1, a2, a3, o], ["ListAccounts", "ACTIVE"]


def _v8_org_accounts_csv(g: Gen):
    accts = [g.account() for _ in range(4)]
    names = ["Management", "Audit", "Log Archive", f"{g.name('ms')}"]
    ous = ["Root", "Security", "Security", "Workloads/Prod"]
    lines = ["Id,Name,Email,Status,JoinedMethod,JoinedTimestamp,OU"]
    for a, n, ou in zip(accts, names, ous, strict=True):
        lines.append(f"{a},{n},aws-{n.lower().replace(' ', '-')}@kestrel.io,ACTIVE,{g.pick(['INVITED', 'CREATED'])},2022-0{g.r.randint(1, 9)}-14T09:00:00Z,{ou}")
    return "Exported from the Organizations console (accounts.csv):\n" + "\n".join(lines), accts + [names[3]], ["JoinedMethod", "Workloads/Prod"]


def _v8_securityhub_csv(g: Gen):
    a, r, b, sg, iid = g.account(), g.region(), g.bucket(), g.hexid("sg"), g.iid()
    fid = _uuid(g)
    text = ("AwsAccountId,Region,Title,Severity,ResourceType,ResourceId,ComplianceStatus,WorkflowStatus,GeneratorId,UpdatedAt\n"
            f"{a},{r},S3 general purpose buckets should block public access,HIGH,AwsS3Bucket,arn:aws:s3:::{b},FAILED,NEW,"
            "security-control/S3.8,2024-06-02T04:11:09.421Z\n"
            f"{a},{r},Security groups should not allow unrestricted access to ports with high risk,CRITICAL,AwsEc2SecurityGroup,"
            f"arn:aws:ec2:{r}:{a}:security-group/{sg},FAILED,NOTIFIED,security-control/EC2.19,2024-06-02T04:11:12.003Z\n"
            f"{a},{r},EC2 instances should use IMDSv2,MEDIUM,AwsEc2Instance,arn:aws:ec2:{r}:{a}:instance/{iid},FAILED,NEW,"
            f"security-control/EC2.8,2024-06-02T04:12:40.118Z\n# finding id arn:aws:securityhub:{r}:{a}:security-control/S3.8/finding/{fid}")
    return text, [a, b, sg, iid], ["security-control/EC2.19", "AwsEc2SecurityGroup", "2024-06-02T04:11:09.421Z"]


def _v8_config_query(g: Gen):
    a1, a2, v1, v2, r = g.account(), g.account(), g.hexid("vpc"), g.hexid("vpc"), g.region()
    q = ("SELECT accountId, awsRegion, resourceId, resourceName, configuration.cidrBlock WHERE resourceType = 'AWS::EC2::VPC'")
    res = {"QueryInfo": {"SelectFields": [{"Name": "accountId"}, {"Name": "awsRegion"}, {"Name": "resourceId"},
                                          {"Name": "resourceName"}, {"Name": "configuration.cidrBlock"}]},
           "Results": [json.dumps({"accountId": a1, "awsRegion": r, "resourceId": v1, "resourceName": g.name("ms"),
                                   "configuration": {"cidrBlock": "10.20.0.0/16"}}),
                       json.dumps({"accountId": a2, "awsRegion": r, "resourceId": v2,
                                   "configuration": {"cidrBlock": "10.30.0.0/16"}})]}
    name = json.loads(res["Results"][0])["resourceName"]
    text = (f"$ aws configservice select-aggregate-resource-config --configuration-aggregator-name org-agg --expression \"{q}\"\n"
            + json.dumps(res, indent=2))
    return text, [a1, a2, v1, v2, name], ["AWS::EC2::VPC", "10.20.0.0/16", "configuration.cidrBlock"]


def _v8_md_inventory_table(g: Gen):
    a, c, db, q, b = g.account(), g.name("pms"), g.name("pms"), g.name("pms"), g.bucket()
    text = ("| Resource | Type | Account | Region | Owner |\n|---|---|---|---|---|\n"
            f"| {c} | EKS cluster | {a} | eu-west-1 | platform |\n| {db} | Aurora cluster | {a} | eu-west-1 | data |\n"
            f"| {q} | SQS queue | {a} | us-east-1 | payments |\n| {b} | S3 bucket | {a} | us-east-1 | web |")
    return text, [a, c, db, q, b], ["| Resource | Type | Account | Region | Owner |", "EKS cluster"]


# prose in Italian, Turkish, Vietnamese, Hindi, Russian, Indonesian
def _v8_it_incident(g: Gen):
    a, c, iid, db = g.account(), g.name("pms"), g.iid(), g.name("pms")
    text = (f"Nota sull'incidente: alle 03:12 il cluster EKS {c} nell'account {a} ha perso due nodi; l'istanza {iid} "
            f"non risponde ai controlli di stato. Il database Aurora {db} è rimasto disponibile. Prossimo passo: "
            "ruotare le chiavi e verificare i log di CloudTrail.")
    return text, [a, c, iid, db], ["CloudTrail", "03:12"]


def _v8_tr_ticket(g: Gen):
    b, a, role, k = g.bucket(), g.account(), g.name("pms"), g.akid()
    text = (f"Destek talebi: {a} numaralı hesaptaki {b} adlı S3 kovasına erişim reddediliyor. {role} rolü ile deneyince "
            f"AccessDenied alıyoruz. Eski erişim anahtarı {k} devre dışı bırakıldı mı?")
    return text, [b, a, role, k], ["AccessDenied"]


def _v8_vi_chat(g: Gen):
    fn, q, a, r = _fn(g), g.name("pms"), g.account(), g.region()
    text = (f"Anh ơi, hàm Lambda {fn} trong tài khoản {a} ({r}) không đọc được hàng đợi SQS {q} nữa. "
            "Em đã kiểm tra quyền sqs:ReceiveMessage rồi, vẫn bị lỗi timeout sau 30 giây.")
    return text, [fn, q, a], ["sqs:ReceiveMessage", "30 giây"]


def _v8_hi_note(g: Gen):
    a, b, c, sg = g.account(), g.bucket(), g.name("pms"), g.hexid("sg")
    text = (f"टीम, प्रोडक्शन अकाउंट {a} में S3 बकेट {b} सार्वजनिक हो गया था। मैंने ECS क्लस्टर {c} के सुरक्षा समूह {sg} से "
            "पोर्ट 22 हटा दिया है। कृपया कल सुबह तक IAM नीतियों की समीक्षा करें।")
    return text, [a, b, c, sg], ["IAM", "पोर्ट 22"]


def _v8_ru_ticket(g: Gen):
    a, t, role, r, db = g.account(), g.name(), g.name("pms"), g.region(), g.name("pms")
    text = (f"Тикет OPS-2291: таблица DynamoDB {t} в аккаунте {a} ({r}) упирается в лимит записи. Роль {role} "
            f"получает ProvisionedThroughputExceededException. Также проверьте реплику RDS {db} — задержка репликации 40 секунд.")
    return text, [a, t, role, db], ["ProvisionedThroughputExceededException", "OPS-2291"]


def _v8_id_chat(g: Gen):
    a, b, fn, v, arn_role = g.account(), g.bucket(), _fn(g), g.hexid("vpc"), g.name("pms")
    text = (f"Halo tim, deploy ke akun {a} gagal. Bucket {b} sudah ada, dan fungsi {fn} tidak bisa dibuat di VPC {v}. "
            f"Pesan galatnya: User: arn:aws:sts::{a}:assumed-role/{arn_role}/deployer is not authorized to perform: "
            "lambda:CreateFunction. Tolong dicek ya.")
    return text, [a, b, fn, v, arn_role], ["lambda:CreateFunction", "Tolong dicek ya."]


# negatives: must come through unchanged
def _v8_neg_tool_ids(g: Gen):
    tid, rid, sha = _toolu(g), _uuid(g), _sha(g)
    text = json.dumps({"type": "tool_use", "id": tid, "name": "Bash",
                       "input": {"command": f"git show {sha} --stat && aws sts get-caller-identity --query Account --output text",
                                 "description": "Check the commit and who I am"}}) + f"\nx-amzn-RequestId: {rid}"
    return text, [], [tid, sha, rid, "--query Account --output text"]


def _v8_neg_policy_words(g: Gen):
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"],
                                                   "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"},
                                                                                  "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}
    text = ("Template for the docs (no real resources):\n" + json.dumps(doc) +
            "\nManaged policies: arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, "
            "arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy\n"
            "See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html")
    return text, [], ["s3:GetObject", "aws:SecureTransport", "aws:RequestedRegion", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                      "arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy",
                      "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"]


def _v8_neg_versions_enums(g: Gen):
    u = _uuid(g)
    text = ("package.json: \"aws-amplify\": \"^6.3.6\", \"@aws-amplify/backend\": \"1.2.1\"\n"
            "Chart: aws-load-balancer-controller-1.8.1 (app v2.8.1); karpenter 1.0.6; external-secrets 0.9.20\n"
            f"Correlation ID {u}, status ACTIVE, BillingMode PAY_PER_REQUEST, StorageClass INTELLIGENT_TIERING,\n"
            "capacity-type on-demand, regions ap-southeast-2 and eu-north-1, updated 2024-06-03T10:22:41Z")
    return text, [], ["\"aws-amplify\": \"^6.3.6\"", "aws-load-balancer-controller-1.8.1", u, "INTELLIGENT_TIERING",
                      "ap-southeast-2", "2024-06-03T10:22:41Z", "PAY_PER_REQUEST"]


def _v8_neg_todo_generic(g: Gen):
    todos = [{"content": "Run terraform plan in the staging workspace", "status": "completed", "activeForm": "Running terraform plan"},
             {"content": "Add s3:ListBucket to the reader policy", "status": "in_progress", "activeForm": "Adding s3:ListBucket"},
             {"content": "Bump aws-sdk to v3.592.0", "status": "pending", "activeForm": "Bumping aws-sdk"}]
    text = json.dumps({"type": "tool_use", "id": _toolu(g), "name": "TodoWrite", "input": {"todos": todos}})
    return text, [], ["Run terraform plan in the staging workspace", "s3:ListBucket", "v3.592.0", '"status": "in_progress"']


VARIANTS_8: list[Template] = [
    # Claude Code tool traffic: Bash tool_use (flags, --query, s3 sync) and a table result, Edit (tfvars, YAML with its
    # result), Write (.env), Grep (files_with_matches, content -n, count), Glob, TodoWrite, Task, WebFetch; MCP results
    # from an aws-api server, CloudWatch Logs Insights, Cost Explorer (#0-#16)
    _v8_bash_describe, _v8_bash_query_arn, _v8_bash_s3_sync, _v8_bash_result_table, _v8_edit_tfvars, _v8_edit_yaml,
    _v8_write_env, _v8_grep_files, _v8_grep_content, _v8_grep_count, _v8_glob, _v8_todowrite, _v8_task_prompt,
    _v8_webfetch_console, _v8_mcp_aws_api, _v8_mcp_cwlogs, _v8_mcp_cost,
    # frontend and mobile: aws-exports.js, amplifyconfiguration.json, amplify_outputs.json, Next.js and Vite env,
    # Android strings.xml, iOS Info.plist, Flutter, Amplify.configure (#17-#25)
    _v8_aws_exports, _v8_amplifyconfiguration, _v8_amplify_outputs, _v8_next_env, _v8_vite_env, _v8_android_strings,
    _v8_info_plist, _v8_flutter_config, _v8_amplify_js_configure,
    # Kubernetes: ALB Ingress, NLB Service, Karpenter EC2NodeClass and NodePool + values, external-secrets, ACK, LBC Helm
    # values, Pod Identity, IRSA trust, LBC events (#26-#35)
    _v8_alb_ingress, _v8_nlb_service, _v8_karpenter_nodeclass, _v8_karpenter_nodepool, _v8_external_secrets,
    _v8_ack_resources, _v8_helm_lbc_values, _v8_pod_identity, _v8_irsa_trust, _v8_kubectl_events_lbc,
    # policies: S3 with SourceVpce / PrincipalOrgID, CloudTrail bucket, KMS key, SCP, GitHub OIDC trust, SNS topic,
    # permission boundary, Lambda resource policy, ECR repository (#36-#44)
    _v8_bucket_policy_vpce, _v8_bucket_policy_cloudtrail, _v8_kms_key_policy, _v8_scp, _v8_github_oidc_trust,
    _v8_sns_topic_policy, _v8_permission_boundary, _v8_lambda_resource_policy, _v8_ecr_repo_policy,
    # CSV and tables: credential report, S3 Inventory, CUR, Cost Explorer, Organizations table and CSV, Security Hub,
    # Config advanced query, a markdown inventory (#45-#53)
    _v8_credential_report, _v8_s3_inventory, _v8_cur_rows, _v8_cost_explorer_csv, _v8_org_accounts_table,
    _v8_org_accounts_csv, _v8_securityhub_csv, _v8_config_query, _v8_md_inventory_table,
    # prose: Italian, Turkish, Vietnamese, Hindi, Russian, Indonesian (#54-#59)
    _v8_it_incident, _v8_tr_ticket, _v8_vi_chat, _v8_hi_note, _v8_ru_ticket, _v8_id_chat,
    # negatives (#60-#63)
    _v8_neg_tool_ids, _v8_neg_policy_words, _v8_neg_versions_enums, _v8_neg_todo_generic,
]


# --- variants-9: a ninth held-out list (session 10), written by a helper that never read the engine, its packs
# or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here. CI/CD (GitHub
# Actions workflow YAML with role-to-assume / aws-region / ECR registry output and its run log from
# configure-aws-credentials, amazon-ecr-login and docker push, .gitlab-ci.yml with OIDC assume-role-with-web-identity
# and a CloudFront invalidation, CodeBuild buildspec.yml with parameter-store / secrets-manager env and a CodeBuild
# [Container] build log, codepipeline get-pipeline-state, deploy get-deployment and the CodeDeploy agent log, a
# Jenkins withAWS console, an Argo CD Application and EKS cluster secret, the ECS deploy action's log); data platforms
# (spark-defaults.conf with fs.s3a.* keys, an EMR step stderr and describe-cluster, a Glue PySpark script and
# get-table, Athena CloudTrail (partition projection) and ALB DDL, get-query-execution, an Airflow / MWAA DAG and an
# aws:// connection URI, dbt profiles.yml for Redshift and Athena, Snowflake CREATE STORAGE INTEGRATION / STAGE and
# DESC INTEGRATION, Databricks cluster JSON and a Unity Catalog external location); ML (SageMaker Estimator code,
# training-job log, describe-endpoint-config and an InvokeEndpoint error, Bedrock invocation log, agents / knowledge
# bases / guardrails in boto3, provisioned throughput and application inference profiles); networking (a Route 53
# zone export, the Site-to-Site VPN generic configuration file, a Client VPN .ovpn, Transit Gateway route search,
# Direct Connect virtual interfaces, PrivateLink endpoint services); identity (~/.aws/config sso-session, the SSO
# token cache, sso-admin permission sets and assignments, a decoded authorization message, Access Analyzer, Macie and
# Inspector findings, CloudTrail Lake SQL); databases and brokers (Aurora JDBC with the AWS wrapper, psql with an IAM
# auth token, Redshift JDBC / serverless / COPY, DMS endpoints, ElastiCache CLUSTER NODES and MOVED, OpenSearch
# _cat/indices, DocumentDB / Neptune URIs, MSK bootstrap brokers, Amazon MQ endpoints); prose in Thai, Arabic,
# Hebrew, Ukrainian, Greek, Czech, Swedish, Finnish, Hungarian, Romanian; negatives woven in (AWS-managed policy
# ARNs, service principals, foundation-model IDs, public AWS hosts, default names such as TSTALIASID, AllTraffic,
# CodeDeployDefault.*, AdministratorAccess, CVE IDs, digests, query / request IDs, versions, enum words) and four
# negative-only templates; 68 templates. Measured as it came out (report seed 13, 5 per template): 82.9 % recall
# (text and JSON alike), 51.5 % pass, 86.8 % kept, 33 failing templates (24 leak a value only, 4 only change a
# must-keep value: #29, #37, #43, #65; 5 both: #6, #14, #27, #30, #42); seed 7 (1 per template): 82.9 %, 51.5 %
# pass, 59 of 68 must-keep cases kept, the same 33 templates. The misses: names as path segments and in strings
# (an SSM parameter path's app name, EMR cluster / step IDs in an aws-logs S3 key, a CodeDeploy deployment-group ID
# in the agent's deployment-root path, a CodeCommit repository in a repoURL, an ALB log prefix in an Athena
# LOCATION, a bucket in a CloudTrail Lake element_at() comparison); Glue catalog database and connection names as
# keyword arguments in a Glue script; a SageMaker model name and a Bedrock provisioned-model name as JSON values;
# credentials: an Airflow connection URI's URL-encoded secret key, DB passwords in dbt profiles.yml, Spring
# properties, a MongoDB URI and ActiveMQ properties, VPN pre-shared keys, a Direct Connect BGP authKey, the SSO
# cache's accessToken / refreshToken / clientSecret, a SigV4 signature in an RDS auth token; an Athena workgroup,
# a JDBC database name, a Direct Connect gateway ID (a UUID), a Macie bucket owner's display name; names and
# accounts in the prose of nine of the ten languages, all but Ukrainian (every value in Thai, Hebrew and Greek, all
# but the access key in Hungarian, the account in Arabic and Finnish, the bucket in Czech). Must-keep
# values changed: CodeDeployDefault.OneAtATime, the AWS-Crawler session name, the AllTraffic variant, the
# TSTALIASID test alias, foundation-model IDs (in ARNs and alone), the device.sso host, a Macie finding ID, a CVE ID
# and an Inspector imageHash digest. One label was corrected after a first run, with the same numbers: #43's image
# digest, first kept everywhere, is now kept only as imageHash (its other copy sits inside a must-mask ARN).
# Never tuned to. ---------------------------------------------------------------------------------------------


_UPPER_HEX = "0123456789ABCDEF"


def _cf_dist(g: Gen) -> str:
    return "E" + g.alnum(13, _UPPER_ALNUM)


def _zone_id(g: Gen) -> str:
    return "Z0" + g.alnum(19, _UPPER_ALNUM)


def _rds_hash(g: Gen) -> str:
    return g.alnum(12, "abcdefghijklmnopqrstuvwxyz0123456789")


def _eks_endpoint(g: Gen, r: str) -> str:
    return f"{g.alnum(32, _UPPER_HEX)}.gr7.{r}.eks.amazonaws.com"


def _emr_id(g: Gen, prefix: str = "j") -> str:
    return prefix + "-" + g.alnum(13, _UPPER_ALNUM)


def _ecr(a: str, r: str) -> str:
    return f"{a}.dkr.ecr.{r}.amazonaws.com"


def _ts(g: Gen) -> str:
    return f"2024-0{g.r.randint(1, 9)}-{g.r.randint(10, 28)}T{g.r.randint(10, 23)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}Z"


# CI/CD: GitHub Actions, GitLab CI, CodeBuild, CodePipeline, CodeDeploy, Jenkins, Argo CD
def _v9_gha_workflow(g: Gen):
    a, r, role, repo, cl, svc = g.account(), g.region(), g.name("pms"), g.name("ms"), g.name("pms"), g.name("ms")
    text = ("name: deploy\n\non:\n  push:\n    branches: [main]\n\npermissions:\n  id-token: write\n  contents: read\n\n"
            "env:\n"
            f"  AWS_REGION: {r}\n  ECR_REPOSITORY: {repo}\n  ECS_CLUSTER: {cl}\n  ECS_SERVICE: {svc}\n\n"
            "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - name: Configure AWS credentials\n        uses: aws-actions/configure-aws-credentials@v4\n        with:\n"
            f"          role-to-assume: arn:aws:iam::{a}:role/{role}\n          role-session-name: gha-deploy\n"
            "          aws-region: ${{ env.AWS_REGION }}\n"
            "      - name: Login to Amazon ECR\n        id: login-ecr\n        uses: aws-actions/amazon-ecr-login@v2\n"
            "      - name: Build, tag, and push image\n        env:\n"
            "          ECR_REGISTRY: ${{ steps.login-ecr.outputs.registry }}\n          IMAGE_TAG: ${{ github.sha }}\n"
            "        run: |\n          docker build -t $ECR_REGISTRY/$ECR_REPOSITORY:$IMAGE_TAG .\n"
            "          docker push $ECR_REGISTRY/$ECR_REPOSITORY:$IMAGE_TAG\n"
            f"      - run: aws ecs update-service --cluster {cl} --service {svc} --force-new-deployment\n")
    return text, [a, role, repo, cl, svc], ["aws-actions/configure-aws-credentials@v4", "id-token: write",
                                            "${{ steps.login-ecr.outputs.registry }}", "--force-new-deployment"]


def _v9_gha_run_log(g: Gen):
    a, r, role, repo, aroa = g.account(), g.region(), g.name("pms"), g.name("ms"), _aroa(g)
    sha = _sha(g)
    dig = "sha256:" + _sha(g, 64)
    text = ("Run aws-actions/configure-aws-credentials@v4\n  with:\n"
            f"    role-to-assume: arn:aws:iam::{a}:role/{role}\n    aws-region: {r}\n    audience: sts.amazonaws.com\n"
            "Assuming role with OIDC\n"
            f"Authenticated as assumedRoleId {aroa}:GitHubActions\n"
            "Run aws-actions/amazon-ecr-login@v2\n"
            f"Logging into registry {_ecr(a, r)}\n"
            "Run docker build -t $ECR_REGISTRY/$ECR_REPOSITORY:$IMAGE_TAG .\n"
            f"#12 naming to {_ecr(a, r)}/{repo}:{sha} done\n"
            f"The push refers to repository [{_ecr(a, r)}/{repo}]\n"
            f"5f70bf18a086: Pushed\n{sha}: digest: {dig} size: 2417\n")
    return text, [a, role, aroa, repo], ["sts.amazonaws.com", "Assuming role with OIDC", dig, "5f70bf18a086: Pushed"]


def _v9_gitlab_ci(g: Gen):
    a, role, b, dist = g.account(), g.name("pms"), g.bucket(), _cf_dist(g)
    text = ("stages:\n  - build\n  - deploy\n\nvariables:\n  AWS_DEFAULT_REGION: eu-central-1\n"
            f"  ROLE_ARN: \"arn:aws:iam::{a}:role/{role}\"\n  SITE_BUCKET: {b}\n\n"
            "deploy_site:\n  stage: deploy\n  image:\n    name: amazon/aws-cli:2.15.30\n    entrypoint: [\"\"]\n"
            "  id_tokens:\n    GITLAB_OIDC_TOKEN:\n      aud: https://gitlab.com\n  script:\n"
            "    - >\n      export $(printf \"AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s\"\n"
            "      $(aws sts assume-role-with-web-identity\n      --role-arn ${ROLE_ARN}\n"
            "      --role-session-name \"GitLabRunner-${CI_PROJECT_ID}-${CI_PIPELINE_ID}\"\n"
            "      --web-identity-token ${GITLAB_OIDC_TOKEN}\n      --duration-seconds 3600\n"
            "      --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]'\n      --output text))\n"
            "    - aws s3 sync public/ s3://$SITE_BUCKET/ --delete\n"
            f"    - aws cloudfront create-invalidation --distribution-id {dist} --paths \"/*\"\n"
            "  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n")
    return text, [a, role, b, dist], ["amazon/aws-cli:2.15.30", "eu-central-1", "GITLAB_OIDC_TOKEN",
                                      "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]"]


def _v9_buildspec(g: Gen):
    a, r, repo, app, sec, suf = g.account(), g.region(), g.name("ms"), g.name("ms"), g.name("pms"), g.alnum(6, _MIXED_ALNUM)
    text = ("version: 0.2\n\nenv:\n  variables:\n"
            f"    IMAGE_REPO_NAME: \"{repo}\"\n    AWS_ACCOUNT_ID: \"{a}\"\n"
            f"  parameter-store:\n    SONAR_TOKEN: /{app}/ci/sonar-token\n"
            f"  secrets-manager:\n    DB_PASSWORD: arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{suf}:password\n\n"
            "phases:\n  install:\n    runtime-versions:\n      java: corretto17\n  pre_build:\n    commands:\n"
            "      - echo Logging in to Amazon ECR...\n"
            f"      - aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin {_ecr(a, r)}\n"
            "      - COMMIT_HASH=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)\n"
            "  build:\n    commands:\n      - mvn -B package -DskipTests\n"
            "      - docker build -t $IMAGE_REPO_NAME:$COMMIT_HASH .\n"
            f"      - docker tag $IMAGE_REPO_NAME:$COMMIT_HASH {_ecr(a, r)}/{repo}:$COMMIT_HASH\n"
            "  post_build:\n    commands:\n"
            f"      - printf '[{{\"name\":\"{app}\",\"imageUri\":\"%s\"}}]' {_ecr(a, r)}/{repo}:$COMMIT_HASH > imagedefinitions.json\n"
            "artifacts:\n  files: imagedefinitions.json\n")
    return text, [a, repo, app, sec], ["corretto17", "CODEBUILD_RESOLVED_SOURCE_VERSION", "imagedefinitions.json"]


def _v9_codebuild_log(g: Gen):
    a, r, proj, b, src = g.account(), g.region(), g.name("pms"), g.bucket(), str(g.r.randint(10**8, 10**9))
    bid = _uuid(g)

    def line(t, s):
        return f"[Container] 2024/05/14 10:22:{t:02d}.{g.r.randint(100000, 999999)} {s}\n"
    text = (f"Build ID: {proj}:{bid}\nLog group: /aws/codebuild/{proj}\n" +
            line(31, "Running on CodeBuild On-demand") + line(31, "Waiting for agent ping") +
            line(33, "Waiting for DOWNLOAD_SOURCE") + line(35, "Phase is DOWNLOAD_SOURCE") +
            line(35, f"CODEBUILD_SRC_DIR=/codebuild/output/src{src}/src") +
            line(35, f"YAML location is /codebuild/output/src{src}/src/buildspec.yml") +
            line(35, "Processing environment variables") +
            line(36, f"Running command aws s3 cp s3://{b}/config/settings.json ./config/") +
            f"download: s3://{b}/config/settings.json to config/settings.json\n" +
            line(38, f"Running command aws ecr get-login-password --region {r} | docker login --username AWS --password-stdin {_ecr(a, r)}") +
            "Login Succeeded\n" +
            line(39, "Phase complete: PRE_BUILD State: SUCCEEDED") +
            line(39, "Phase context status code:  Message: "))
    return text, [a, proj, b], [bid, "Phase complete: PRE_BUILD State: SUCCEEDED", "Running on CodeBuild On-demand"]


def _v9_codepipeline_state(g: Gen):
    r, pipe, proj, ex, bid = g.region(), g.name("pms"), g.name("pms"), _uuid(g), _uuid(g)
    d = {"pipelineName": pipe, "pipelineVersion": 7, "stageStates": [
        {"stageName": "Source", "inboundTransitionState": {"enabled": True},
         "actionStates": [{"actionName": "Source", "currentRevision": {"revisionId": _sha(g)},
                           "latestExecution": {"status": "Succeeded", "lastStatusChange": "2024-05-14T10:21:07.512000+00:00"}}],
         "latestExecution": {"pipelineExecutionId": ex, "status": "Succeeded"}},
        {"stageName": "Build", "inboundTransitionState": {"enabled": True},
         "actionStates": [{"actionName": "Build", "latestExecution": {
             "actionExecutionId": _uuid(g), "status": "Failed", "summary": "Build terminated with state: FAILED",
             "externalExecutionId": f"{proj}:{bid}",
             "externalExecutionUrl": f"https://console.aws.amazon.com/codebuild/home?region={r}#/builds/{proj}:{bid}/view/new",
             "errorDetails": {"code": "JobFailed", "message": "Build terminated with state: FAILED"}},
             "entityUrl": f"https://console.aws.amazon.com/codebuild/home?region={r}#/projects/{proj}/view"}],
         "latestExecution": {"pipelineExecutionId": ex, "status": "Failed"}}],
        "created": "2024-02-01T09:00:00+00:00", "updated": "2024-05-14T10:19:44+00:00"}
    text = f"$ aws codepipeline get-pipeline-state --name {pipe}\n" + json.dumps(d, indent=4)
    return text, [pipe, proj], [ex, "Build terminated with state: FAILED", '"status": "Succeeded"', "JobFailed"]


def _v9_codedeploy(g: Gen):
    app, grp, b, dep = g.name("ms"), g.name("pms"), g.bucket(), "d-" + g.alnum(9, _UPPER_ALNUM)
    gid = _uuid(g)
    d = {"deploymentInfo": {"applicationName": app, "deploymentGroupName": grp, "deploymentConfigName": "CodeDeployDefault.OneAtATime",
                            "deploymentId": dep, "revision": {"revisionType": "S3", "s3Location": {
                                "bucket": b, "key": f"{app}/release-2024.05.14.zip", "bundleType": "zip",
                                "eTag": _sha(g, 32)}},
                            "status": "Failed", "errorInformation": {"code": "HEALTH_CONSTRAINTS",
                                                                     "message": "The overall deployment failed because too many individual instances failed deployment"},
                            "creator": "user", "computePlatform": "Server"}}
    text = (f"$ aws deploy get-deployment --deployment-id {dep}\n" + json.dumps(d, indent=4) +
            "\n\n$ sudo tail -3 /var/log/aws/codedeploy-agent/codedeploy-agent.log\n"
            f"2024-05-14T10:33:12 ERROR [codedeploy-agent(2871)]: InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller: "
            f"Error during perform: InstanceAgent::Plugins::CodeDeployPlugin::ScriptError - Script at specified location: "
            f"scripts/start_server.sh run as user root failed with exit code 1 - /opt/codedeploy-agent/deployment-root/{gid}/{dep}/"
            "deployment-archive/scripts/start_server.sh\n")
    return text, [app, grp, b, dep, gid], ["CodeDeployDefault.OneAtATime", "HEALTH_CONSTRAINTS", "InstanceAgent::Plugins::CodeDeployPlugin::ScriptError"]


def _v9_jenkins(g: Gen):
    a, role, b, fn, r = g.account(), g.name("pms"), g.bucket(), _fn(g), g.region()
    text = ("Started by GitHub push by p-moreau\n[Pipeline] Start of Pipeline\n[Pipeline] node\n"
            "Running on build-agent-3 in /var/lib/jenkins/workspace/payments-api_main\n"
            f"[Pipeline] withAWS\nSetting AWS region {r} \nRequesting assume role\n"
            f"Assumed role arn:aws:iam::{a}:role/{role} with id {_aroa(g)}:Jenkins-payments-api-main-412 \n"
            "[Pipeline] {\n[Pipeline] sh\n"
            f"+ aws s3 cp target/app.zip s3://{b}/builds/412/app.zip\n"
            f"upload: target/app.zip to s3://{b}/builds/412/app.zip\n[Pipeline] sh\n"
            f"+ aws lambda update-function-code --function-name {fn} --s3-bucket {b} --s3-key builds/412/app.zip --publish\n"
            "An error occurred (ResourceConflictException) when calling the UpdateFunctionCode operation: "
            f"The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:{r}:{a}:function:{fn}\n"
            "[Pipeline] }\n[Pipeline] // withAWS\nFinished: FAILURE\n")
    return text, [a, role, b, fn], ["ResourceConflictException", "Finished: FAILURE", "[Pipeline] withAWS"]


def _v9_argocd(g: Gen):
    a, r, repo, cl, role, ns = g.account(), g.region(), g.name("ms"), g.name("pms"), g.name("pms"), g.name("ms")
    ep = _eks_endpoint(g, r)
    text = ("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: payments-api\n  namespace: argocd\n"
            "spec:\n  project: default\n  source:\n"
            f"    repoURL: https://git-codecommit.{r}.amazonaws.com/v1/repos/{repo}\n"
            "    targetRevision: HEAD\n    path: overlays/prod\n  destination:\n"
            f"    server: https://{ep}\n    namespace: {ns}\n"
            "  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n---\n"
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-prod\n  labels:\n"
            "    argocd.argoproj.io/secret-type: cluster\ntype: Opaque\nstringData:\n"
            f"  name: {cl}\n  server: https://{ep}\n  config: |\n    {{\n      \"awsAuthConfig\": {{\n"
            f"        \"clusterName\": \"{cl}\",\n        \"roleARN\": \"arn:aws:iam::{a}:role/{role}\"\n      }},\n"
            "      \"tlsClientConfig\": {\n        \"insecure\": false,\n        \"caData\": \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\"\n      }\n    }\n")
    return text, [a, repo, ep.split(".")[0], cl, role], ["argoproj.io/v1alpha1", "argocd.argoproj.io/secret-type: cluster", "selfHeal: true"]


def _v9_ecs_deploy_log(g: Gen):
    a, r, fam, cl, svc = g.account(), g.region(), g.name("ms"), g.name("pms"), g.name("ms")
    rev = g.r.randint(2, 300)
    text = ("Run aws-actions/amazon-ecs-deploy-task-definition@v2\n  with:\n    task-definition: /home/runner/work/_temp/task-definition-2871.json\n"
            f"    service: {svc}\n    cluster: {cl}\n    wait-for-service-stability: true\n"
            f"Deployment started. Watch this deployment's progress in the Amazon ECS console: https://{r}.console.aws.amazon.com/ecs/v2/clusters/{cl}/services/{svc}/events?region={r}\n"
            f"Task definition registered: arn:aws:ecs:{r}:{a}:task-definition/{fam}:{rev}\n"
            f"Updated service {svc} in cluster {cl}\nWaiting for the service to become stable. Will wait for 30 minutes\n"
            "Error: Resource is not in the state servicesStable\n")
    return text, [a, fam, cl, svc], ["wait-for-service-stability: true", "Resource is not in the state servicesStable",
                                     "Will wait for 30 minutes"]


# data platforms: Spark/EMR, Glue, Athena, Airflow/MWAA, dbt, Snowflake, Databricks
def _v9_spark_defaults(g: Gen):
    a, r, b1, b2, role, k = g.account(), g.region(), g.bucket(), g.bucket(), g.name("pms"), _uuid(g)
    text = ("# /etc/spark/conf/spark-defaults.conf\n"
            "spark.master                                   yarn\n"
            f"spark.sql.warehouse.dir                        s3a://{b1}/warehouse\n"
            f"spark.eventLog.dir                             s3a://{b2}/spark-events/\n"
            "spark.hadoop.fs.s3a.aws.credentials.provider   org.apache.hadoop.fs.s3a.auth.AssumedRoleCredentialProvider\n"
            f"spark.hadoop.fs.s3a.assumed.role.arn           arn:aws:iam::{a}:role/{role}\n"
            "spark.hadoop.fs.s3a.assumed.role.session.duration 1h\n"
            f"spark.hadoop.fs.s3a.bucket.{b2}.endpoint.region {r}\n"
            "spark.hadoop.fs.s3a.server-side-encryption-algorithm SSE-KMS\n"
            f"spark.hadoop.fs.s3a.server-side-encryption.key arn:aws:kms:{r}:{a}:key/{k}\n"
            "spark.hadoop.fs.s3a.fast.upload                true\n"
            "spark.hadoop.fs.s3a.connection.maximum         200\n")
    return text, [a, b1, b2, role, k], ["org.apache.hadoop.fs.s3a.auth.AssumedRoleCredentialProvider",
                                        "spark.hadoop.fs.s3a.fast.upload", "SSE-KMS"]


def _v9_emr_step_log(g: Gen):
    a, r, j, s, b = g.account(), g.region(), _emr_id(g), _emr_id(g, "s"), g.bucket()
    app = f"application_{g.r.randint(1700000000000, 1720000000000)}_{g.r.randint(1, 40):04d}"
    host = _node_host(g, r)
    text = (f"$ aws s3 cp s3://aws-logs-{a}-{r}/elasticmapreduce/{j}/steps/{s}/stderr.gz - | zcat | tail\n"
            f"24/05/14 10:41:02 INFO Client: Submitting application {app} to ResourceManager\n"
            f"24/05/14 10:41:02 INFO YarnClientImpl: Submitted application {app}\n"
            f"24/05/14 10:41:03 INFO Client: Application report for {app} (state: ACCEPTED)\n"
            f"\t ApplicationMaster host: {host}\n\t ApplicationMaster RPC port: 35761\n\t queue: default\n"
            f"\t tracking URL: http://{host}:20888/proxy/{app}/\n"
            f"24/05/14 10:47:55 ERROR Client: Application diagnostics message: User class threw exception: "
            f"java.io.FileNotFoundException: No such file or directory: s3://{b}/raw/orders/dt=2024-05-13\n"
            f"Exception in thread \"main\" org.apache.spark.SparkException: Application {app} finished with failed status\n")
    return text, [a, j, s, b], [app, "ApplicationMaster RPC port: 35761", "org.apache.spark.SparkException"]


def _v9_emr_describe(g: Gen):
    a, r, j, name, key, sn = g.account(), g.region(), _emr_id(g), g.name("pms"), g.name("ms"), g.hexid("subnet")
    sg1, sg2, b = g.hexid("sg"), g.hexid("sg"), g.bucket()
    d = {"Cluster": {"Id": j, "Name": name, "Status": {"State": "WAITING", "StateChangeReason": {"Message": "Cluster ready to run steps."}},
                     "Ec2InstanceAttributes": {"Ec2KeyName": key, "Ec2SubnetId": sn, "Ec2AvailabilityZone": r + "b",
                                               "IamInstanceProfile": "EMR_EC2_DefaultRole",
                                               "EmrManagedMasterSecurityGroup": sg1, "EmrManagedSlaveSecurityGroup": sg2},
                     "LogUri": f"s3n://{b}/emr-logs/", "ReleaseLabel": "emr-7.1.0", "ServiceRole": "EMR_DefaultRole",
                     "Applications": [{"Name": "Spark", "Version": "3.5.0"}, {"Name": "Hadoop", "Version": "3.3.6"}],
                     "ClusterArn": f"arn:aws:elasticmapreduce:{r}:{a}:cluster/{j}",
                     "ScaleDownBehavior": "TERMINATE_AT_TASK_COMPLETION"}}
    text = f"$ aws emr describe-cluster --cluster-id {j}\n" + json.dumps(d, indent=4)
    return text, [a, j, name, key, sn, sg1, sg2, b], ["emr-7.1.0", "EMR_EC2_DefaultRole", "TERMINATE_AT_TASK_COMPLETION", "Cluster ready to run steps."]


def _v9_glue_script(g: Gen):
    db, tbl, b, conn, tgt = g.name("p_m_s"), g.name("p_m_s"), g.bucket(), g.name("pms"), g.name("p_m_s")
    text = ("import sys\nfrom awsglue.transforms import *\nfrom awsglue.utils import getResolvedOptions\n"
            "from pyspark.context import SparkContext\nfrom awsglue.context import GlueContext\nfrom awsglue.job import Job\n\n"
            "args = getResolvedOptions(sys.argv, ['JOB_NAME'])\nglueContext = GlueContext(SparkContext.getOrCreate())\n"
            "job = Job(glueContext)\njob.init(args['JOB_NAME'], args)\n\n"
            f"datasource0 = glueContext.create_dynamic_frame.from_catalog(database = \"{db}\", table_name = \"{tbl}\", "
            "transformation_ctx = \"datasource0\")\n"
            "applymapping1 = ApplyMapping.apply(frame = datasource0, mappings = [(\"order_id\", \"string\", \"order_id\", \"string\"), "
            "(\"amount\", \"double\", \"amount\", \"decimal(12,2)\")], transformation_ctx = \"applymapping1\")\n"
            "datasink2 = glueContext.write_dynamic_frame.from_options(frame = applymapping1, connection_type = \"s3\", "
            f"connection_options = {{\"path\": \"s3://{b}/curated/orders/\", \"partitionKeys\": [\"dt\"]}}, "
            "format = \"glueparquet\", transformation_ctx = \"datasink2\")\n"
            f"glueContext.write_dynamic_frame.from_jdbc_conf(frame = applymapping1, catalog_connection = \"{conn}\", "
            f"connection_options = {{\"dbtable\": \"{tgt}\", \"database\": \"dev\"}}, redshift_tmp_dir = args[\"TempDir\"])\n"
            "job.commit()\n")
    return text, [db, tbl, b, conn], ["transformation_ctx = \"datasource0\"", "glueparquet", "getResolvedOptions(sys.argv, ['JOB_NAME'])"]


def _v9_glue_get_table(g: Gen):
    a, r, db, tbl, b = g.account(), g.region(), g.name("p_m_s"), g.name("p_m_s"), g.bucket()
    d = {"Table": {"Name": tbl, "DatabaseName": db, "CreateTime": "2024-03-02T08:14:51+00:00",
                   "UpdateTime": "2024-05-14T02:00:19+00:00", "Retention": 0,
                   "StorageDescriptor": {"Columns": [{"Name": "order_id", "Type": "string"}, {"Name": "amount", "Type": "double"}],
                                         "Location": f"s3://{b}/raw/{tbl}/",
                                         "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                                         "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                                         "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}},
                   "PartitionKeys": [{"Name": "dt", "Type": "string"}], "TableType": "EXTERNAL_TABLE",
                   "Parameters": {"classification": "parquet", "compressionType": "none", "UPDATED_BY_CRAWLER": f"{db}-crawler"},
                   "CreatedBy": f"arn:aws:sts::{a}:assumed-role/AWSGlueServiceRole-{db}/AWS-Crawler",
                   "IsRegisteredWithLakeFormation": False, "CatalogId": a, "VersionId": "12"}}
    text = f"$ aws glue get-table --region {r} --database-name {db} --name {tbl}\n" + json.dumps(d, indent=4)
    return text, [a, db, tbl, b], ["org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat", "EXTERNAL_TABLE", "AWS-Crawler"]


def _v9_athena_cloudtrail_ddl(g: Gen):
    a, b, o = g.account(), g.bucket(), g.org()
    text = ("CREATE EXTERNAL TABLE cloudtrail_logs (\n    eventversion STRING,\n    useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING,\n"
            "        accountid: STRING, invokedby: STRING, accesskeyid: STRING, username: STRING>,\n"
            "    eventtime STRING,\n    eventsource STRING,\n    eventname STRING,\n    awsregion STRING,\n    sourceipaddress STRING,\n"
            "    requestparameters STRING,\n    recipientaccountid STRING\n)\n"
            "PARTITIONED BY (region string, `date` string)\n"
            "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n"
            "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n"
            "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
            f"LOCATION 's3://{b}/AWSLogs/{o}/{a}/CloudTrail/'\n"
            "TBLPROPERTIES (\n  'projection.enabled'='true',\n  'projection.date.type'='date',\n"
            "  'projection.date.range'='2024/01/01,NOW',\n  'projection.date.format'='yyyy/MM/dd',\n"
            "  'projection.region.type'='enum',\n  'projection.region.values'='us-east-1,eu-west-1',\n"
            f"  'storage.location.template'='s3://{b}/AWSLogs/{o}/{a}/CloudTrail/${{region}}/${{date}}'\n);\n")
    return text, [a, b, o], ["com.amazon.emr.cloudtrail.CloudTrailInputFormat", "'projection.region.values'='us-east-1,eu-west-1'",
                             "org.apache.hive.hcatalog.data.JsonSerDe"]


def _v9_athena_alb(g: Gen):
    a, r, b, lb, tg = g.account(), g.region(), g.bucket(), g.name("ms"), g.name("ms")
    h = g.alnum(16, _HEX)
    text = ("CREATE EXTERNAL TABLE IF NOT EXISTS alb_access_logs (\n  type string, time string, elb string, client_ip string,\n"
            "  client_port int, target_ip string, target_port int, request_processing_time double,\n"
            "  elb_status_code int, target_status_code string, request_verb string, request_url string,\n"
            "  target_group_arn string, trace_id string, domain_name string\n)\n"
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\n"
            "WITH SERDEPROPERTIES ('serialization.format' = '1', 'input.regex' = '([^ ]*) ([^ ]*) ([^ ]*) ...')\n"
            f"LOCATION 's3://{b}/{lb}/AWSLogs/{a}/elasticloadbalancing/{r}/';\n\n"
            "SELECT target_status_code, count(*) AS hits\nFROM alb_access_logs\n"
            f"WHERE target_group_arn = 'arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{h}'\n"
            "  AND elb_status_code >= 500\n  AND time > '2024-05-14T00:00:00'\nGROUP BY 1 ORDER BY 2 DESC;\n")
    return text, [a, b, lb, tg, h], ["org.apache.hadoop.hive.serde2.RegexSerDe", "elb_status_code >= 500", "GROUP BY 1 ORDER BY 2 DESC"]


def _v9_athena_execution(g: Gen):
    r, b, db, tbl, wg, q = g.region(), g.bucket(), g.name("p_m_s"), g.name("p_m_s"), g.name("ms"), _uuid(g)
    d = {"QueryExecution": {"QueryExecutionId": q, "Query": f"SELECT customer_id, sum(amount) FROM \"{db}\".\"{tbl}\" WHERE dt = '2024-05-13' GROUP BY 1",
                            "StatementType": "DML", "ResultConfiguration": {"OutputLocation": f"s3://{b}/athena-results/{q}.csv"},
                            "QueryExecutionContext": {"Database": db, "Catalog": "awsdatacatalog"},
                            "Status": {"State": "FAILED", "StateChangeReason": f"HIVE_BAD_DATA: Field amount's type BINARY in parquet file s3://{b}/raw/{tbl}/dt=2024-05-13/part-00003.snappy.parquet is incompatible with type double defined in table schema",
                                       "SubmissionDateTime": "2024-05-14T11:02:17.402000+02:00"},
                            "Statistics": {"EngineExecutionTimeInMillis": 1882, "DataScannedInBytes": 40211731},
                            "WorkGroup": wg, "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}}}
    text = f"$ aws athena get-query-execution --region {r} --query-execution-id {q}\n" + json.dumps(d, indent=2)
    return text, [b, db, tbl, wg], [q, "awsdatacatalog", "Athena engine version 3", "HIVE_BAD_DATA"]


def _v9_airflow_dag(g: Gen):
    b, job, role, cl, db = g.bucket(), g.name("pms"), g.name("pms"), g.name("pms"), g.name("ms")
    text = ("from datetime import datetime\n\nfrom airflow import DAG\n"
            "from airflow.providers.amazon.aws.operators.glue import GlueJobOperator\n"
            "from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator\n"
            "from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor\n\n"
            "with DAG(\"orders_daily\", start_date=datetime(2024, 1, 1), schedule=\"@daily\", catchup=False) as dag:\n"
            f"    wait = S3KeySensor(task_id=\"wait_for_export\", bucket_name=\"{b}\",\n"
            "                       bucket_key=\"exports/{{ ds }}/_SUCCESS\", aws_conn_id=\"aws_default\", poke_interval=300)\n"
            f"    transform = GlueJobOperator(task_id=\"transform\", job_name=\"{job}\", iam_role_name=\"{role}\",\n"
            "                                script_args={\"--dt\": \"{{ ds }}\"}, region_name=\"eu-west-1\")\n"
            f"    load = RedshiftDataOperator(task_id=\"load\", cluster_identifier=\"{cl}\", database=\"{db}\", db_user=\"airflow\",\n"
            "                                sql=\"CALL load_orders('{{ ds }}');\", wait_for_completion=True)\n"
            "    wait >> transform >> load\n")
    return text, [b, job, role, cl], ["aws_conn_id=\"aws_default\"", "schedule=\"@daily\"", "{{ ds }}", "eu-west-1"]


def _v9_airflow_conn(g: Gen):
    k, s, a, role, r = g.akid(), g.secret(), g.account(), g.name("pms"), g.region()
    enc = quote(s, safe="")
    text = ("$ airflow connections add aws_prod \\\n"
            f"    --conn-uri 'aws://{k}:{enc}@/?region_name={r}&role_arn=arn%3Aaws%3Aiam%3A%3A{a}%3Arole%2F{role}'\n"
            "Successfully added `conn_id`=aws_prod : aws://:******@:\n\n"
            "# or, in the MWAA startup script / .env:\n"
            f"AIRFLOW_CONN_AWS_PROD='{{\"conn_type\": \"aws\", \"login\": \"{k}\", \"password\": \"{s}\", "
            f"\"extra\": {{\"region_name\": \"{r}\", \"role_arn\": \"arn:aws:iam::{a}:role/{role}\"}}}}'\n")
    return text, [k, s, a, role], ["Successfully added `conn_id`=aws_prod", "\"conn_type\": \"aws\""]


def _v9_dbt_profiles(g: Gen):
    r, cl, h, pw, b, wg, sch = g.region(), g.name("pms"), _rds_hash(g), g.alnum(20, _MIXED_ALNUM), g.bucket(), g.name("ms"), g.name("p_m_s")
    cl2 = g.name("pms")
    text = ("analytics:\n  target: prod\n  outputs:\n    prod:\n      type: redshift\n"
            f"      host: {cl}.{h}.{r}.redshift.amazonaws.com\n      user: dbt_svc\n"
            f"      password: \"{pw}\"\n      port: 5439\n      dbname: analytics\n      schema: {sch}\n      threads: 8\n      sslmode: require\n"
            f"    iam:\n      type: redshift\n      method: iam\n      cluster_id: {cl2}\n      iam_profile: data-eng\n"
            f"      host: {cl2}.{h}.{r}.redshift.amazonaws.com\n      user: dbt_svc\n      port: 5439\n      dbname: analytics\n      schema: {sch}\n"
            f"    athena:\n      type: athena\n      s3_staging_dir: s3://{b}/dbt/\n      region_name: {r}\n"
            f"      database: awsdatacatalog\n      schema: {sch}\n      work_group: {wg}\n      threads: 4\n")
    return text, [cl, h, pw, b, wg, cl2], ["type: redshift", "method: iam", "database: awsdatacatalog", "sslmode: require"]


def _v9_snowflake_integration(g: Gen):
    a, role, b1, b2 = g.account(), g.name("pms"), g.bucket(), g.bucket()
    text = ("CREATE STORAGE INTEGRATION s3_raw_int\n  TYPE = EXTERNAL_STAGE\n  STORAGE_PROVIDER = 'S3'\n  ENABLED = TRUE\n"
            f"  STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::{a}:role/{role}'\n"
            f"  STORAGE_ALLOWED_LOCATIONS = ('s3://{b1}/exports/', 's3://{b2}/')\n"
            "  STORAGE_BLOCKED_LOCATIONS = ('s3://" + b1 + "/exports/pii/');\n\n"
            "CREATE OR REPLACE STAGE raw.public.orders_stage\n"
            f"  URL = 's3://{b1}/exports/orders/'\n  STORAGE_INTEGRATION = s3_raw_int\n"
            "  FILE_FORMAT = (TYPE = PARQUET);\n\n"
            "COPY INTO raw.public.orders FROM @raw.public.orders_stage MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE;\n")
    return text, [a, role, b1, b2], ["TYPE = EXTERNAL_STAGE", "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE", "STORAGE_PROVIDER = 'S3'"]


def _v9_snowflake_desc(g: Gen):
    a, sa, role, b = g.account(), g.account(), g.name("pms"), g.bucket()
    usr = f"{g.alnum(4, _LOWER_ALNUM)}0000-s"
    ext = f"{g.alnum(7, _UPPER_ALNUM)}_SFCRole=2_{g.alnum(28, _B64)}="
    rows = [("ENABLED", "Boolean", "true", "false"), ("STORAGE_PROVIDER", "String", "S3", ""),
            ("STORAGE_ALLOWED_LOCATIONS", "List", f"s3://{b}/exports/", "[]"), ("STORAGE_BLOCKED_LOCATIONS", "List", "", "[]"),
            ("STORAGE_AWS_IAM_USER_ARN", "String", f"arn:aws:iam::{sa}:user/{usr}", ""),
            ("STORAGE_AWS_ROLE_ARN", "String", f"arn:aws:iam::{a}:role/{role}", ""),
            ("STORAGE_AWS_EXTERNAL_ID", "String", ext, ""), ("COMMENT", "String", "", "")]
    w = max(len(r[2]) for r in rows) + 1
    sep = "+" + "-" * 27 + "+" + "-" * 15 + "+" + "-" * (w + 1) + "+" + "-" * 18 + "+"
    out = [sep, f"| {'property':<26}| {'property_type':<14}| {'property_value':<{w}}| {'property_default':<17}|",
           sep.replace("+", "|", 1)[:-1] + "|"]
    out += [f"| {p:<26}| {t:<14}| {v:<{w}}| {d:<17}|" for p, t, v, d in rows]
    out.append(sep)
    text = "DESC INTEGRATION s3_raw_int;\n" + "\n".join(out) + "\n8 Row(s) produced. Time Elapsed: 0.142s"
    return text, [a, sa, role, b], ["STORAGE_AWS_IAM_USER_ARN", "property_default", "8 Row(s) produced. Time Elapsed: 0.142s"]


def _v9_databricks_cluster(g: Gen):
    a, r, prof, b, team = g.account(), g.region(), g.name("pms"), g.bucket(), g.name("ms")
    d = {"cluster_name": "etl-nightly", "spark_version": "14.3.x-scala2.12", "node_type_id": "i3.xlarge",
         "driver_node_type_id": "i3.2xlarge", "autoscale": {"min_workers": 2, "max_workers": 8},
         "aws_attributes": {"first_on_demand": 1, "availability": "SPOT_WITH_FALLBACK", "zone_id": "auto",
                            "instance_profile_arn": f"arn:aws:iam::{a}:instance-profile/{prof}",
                            "spot_bid_price_percent": 100, "ebs_volume_type": "GENERAL_PURPOSE_SSD", "ebs_volume_count": 1,
                            "ebs_volume_size": 100},
         "cluster_log_conf": {"s3": {"destination": f"s3://{b}/cluster-logs", "region": r, "enable_encryption": True,
                                     "canned_acl": "bucket-owner-full-control"}},
         "spark_conf": {"spark.databricks.delta.preview.enabled": "true",
                        f"spark.hadoop.fs.s3a.bucket.{b}.server-side-encryption-algorithm": "SSE-KMS"},
         "custom_tags": {"team": team, "cost-center": "4410"}, "autotermination_minutes": 30}
    text = "$ databricks clusters create --json @cluster.json\n# cluster.json\n" + json.dumps(d, indent=2)
    return text, [a, prof, b], ["14.3.x-scala2.12", "i3.xlarge", "SPOT_WITH_FALLBACK", "bucket-owner-full-control", "GENERAL_PURPOSE_SSD"]


def _v9_databricks_uc(g: Gen):
    a, role, b, cred = g.account(), g.name("pms"), g.bucket(), g.name("p_m_s")
    eid = _uuid(g)
    text = (f"CREATE EXTERNAL LOCATION IF NOT EXISTS raw_landing\n  URL 's3://{b}/landing'\n  WITH (STORAGE CREDENTIAL {cred})\n"
            "  COMMENT 'raw files from the partner SFTP';\n\n"
            f"$ databricks storage-credentials get {cred}\n" +
            json.dumps({"name": cred, "aws_iam_role": {"role_arn": f"arn:aws:iam::{a}:role/{role}", "external_id": eid},
                        "owner": "data-platform-admins", "read_only": False, "isolation_mode": "ISOLATION_MODE_OPEN",
                        "created_at": 1715679712000}, indent=2))
    return text, [a, role, b], ["ISOLATION_MODE_OPEN", "COMMENT 'raw files from the partner SFTP'"]


# ML: SageMaker SDK, training logs, endpoint configs; Bedrock invocation logs, agents, knowledge bases, throughput
def _v9_sagemaker_sdk(g: Gen):
    a, r, repo, b, sn, sg = g.account(), g.region(), g.name("ms"), g.bucket(), g.hexid("subnet"), g.hexid("sg")
    stamp = f"2024{g.r.randint(10, 12)}{g.r.randint(10, 28)}T{g.r.randint(100000, 235959)}"
    role = f"AmazonSageMaker-ExecutionRole-{stamp}"
    text = ("import sagemaker\nfrom sagemaker.estimator import Estimator\n\nsess = sagemaker.Session()\n"
            f"role = \"arn:aws:iam::{a}:role/service-role/{role}\"\n\n"
            f"est = Estimator(\n    image_uri=\"{_ecr(a, r)}/{repo}:2.2.0-gpu\",\n    role=role,\n"
            "    instance_count=2,\n    instance_type=\"ml.g5.2xlarge\",\n    volume_size=200,\n    max_run=4 * 3600,\n"
            f"    output_path=\"s3://{b}/models/\",\n    subnets=[\"{sn}\"],\n    security_group_ids=[\"{sg}\"],\n"
            "    hyperparameters={\"epochs\": 12, \"lr\": 3e-4},\n    sagemaker_session=sess,\n)\n"
            f"est.fit({{\"train\": \"s3://{b}/datasets/train/\", \"validation\": \"s3://{b}/datasets/val/\"}}, wait=False)\n")
    return text, [a, repo, b, sn, sg, stamp], ["ml.g5.2xlarge", "instance_count=2", "\"lr\": 3e-4"]


def _v9_sagemaker_training_log(g: Gen):
    a, r, base, b = g.account(), g.region(), g.name("pms"), g.bucket()
    job = f"{base}-2024-05-14-10-22-33-{g.r.randint(100, 999)}"
    text = (f"INFO:sagemaker:Creating training-job with name: {job}\n"
            "2024-05-14 10:22:34 Starting - Starting the training job...\n"
            "2024-05-14 10:23:01 Starting - Preparing the instances for training......\n"
            "2024-05-14 10:24:12 Downloading - Downloading input data...\n"
            "2024-05-14 10:24:47 Downloading - Downloading the training image.........\n"
            "2024-05-14 10:26:30 Training - Training image download completed. Training in progress.\n"
            "[1,mpirank:0,algo-1]<stdout>:epoch 12/12 loss=0.2174 val_loss=0.2391\n"
            "2024-05-14 10:41:02 Uploading - Uploading generated training model\n"
            "2024-05-14 10:41:20 Completed - Training job completed\n"
            "Training seconds: 1126\nBillable seconds: 1126\n\n"
            ">>> est.model_data\n"
            f"'s3://{b}/models/{job}/output/model.tar.gz'\n"
            ">>> est.latest_training_job.describe()['TrainingJobArn']\n"
            f"'arn:aws:sagemaker:{r}:{a}:training-job/{job}'\n")
    return text, [a, base, b], ["Billable seconds: 1126", "Training image download completed. Training in progress.",
                                "[1,mpirank:0,algo-1]<stdout>:epoch 12/12"]


def _v9_sagemaker_endpoint(g: Gen):
    a, r, cfg, model, b, k, ep = g.account(), g.region(), g.name("pms"), g.name("pms"), g.bucket(), _uuid(g), g.name("pms")
    d = {"EndpointConfigName": cfg, "EndpointConfigArn": f"arn:aws:sagemaker:{r}:{a}:endpoint-config/{cfg}",
         "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 2,
                                 "InstanceType": "ml.m5.xlarge", "InitialVariantWeight": 1.0}],
         "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 20,
                               "DestinationS3Uri": f"s3://{b}/datacapture", "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]},
         "KmsKeyId": f"arn:aws:kms:{r}:{a}:key/{k}", "CreationTime": "2024-05-02T09:41:12.301000+00:00"}
    text = (f"$ aws sagemaker describe-endpoint-config --endpoint-config-name {cfg}\n" + json.dumps(d, indent=4) +
            f"\n\n$ aws sagemaker-runtime invoke-endpoint --endpoint-name {ep} --body fileb://req.json out.json\n"
            "An error occurred (ModelError) when calling the InvokeEndpoint operation: Received client error (400) from primary "
            "with message \"{\"error\": \"input must be a list\"}\". See "
            f"https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logEventViewer:group=/aws/sagemaker/Endpoints/{ep} "
            f"in account {a} for more information.\n")
    return text, [a, cfg, model, b, k, ep], ["AllTraffic", "ml.m5.xlarge", "InvokeEndpoint", "\"CaptureMode\": \"Input\""]


def _v9_bedrock_invocation_log(g: Gen):
    a, r, role, who, rid = g.account(), g.region(), g.name("pms"), g.person(), _uuid(g)
    d = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2024-05-14T10:22:33Z",
         "accountId": a, "identity": {"arn": f"arn:aws:sts::{a}:assumed-role/{role}/{who}"}, "region": r,
         "requestId": rid, "operation": "Converse", "modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0",
         "input": {"inputContentType": "application/json", "inputTokenCount": 1412},
         "output": {"outputContentType": "application/json", "outputTokenCount": 388,
                    "outputBodyJson": {"stopReason": "end_turn", "metrics": {"latencyMs": 5120}}}}
    text = json.dumps(d)
    return text, [a, role, who], [rid, "anthropic.claude-3-5-sonnet-20240620-v1:0", "ModelInvocationLog", "\"stopReason\": \"end_turn\""]


def _v9_bedrock_agent(g: Gen):
    a, r = g.account(), g.region()
    agent, alias, kb, gr = g.alnum(10, _UPPER_ALNUM), g.alnum(10, _UPPER_ALNUM), g.alnum(10, _UPPER_ALNUM), g.alnum(12, _LOWER_ALNUM)
    text = ("import boto3, uuid\n\n"
            f"rt = boto3.client(\"bedrock-agent-runtime\", region_name=\"{r}\")\n\n"
            f"resp = rt.invoke_agent(agentId=\"{agent}\", agentAliasId=\"TSTALIASID\", sessionId=str(uuid.uuid4()),\n"
            "                       inputText=\"Summarise yesterday's failed payments\", enableTrace=True)\n"
            f"prod = rt.invoke_agent(agentId=\"{agent}\", agentAliasId=\"{alias}\", sessionId=sid, inputText=q)\n\n"
            f"docs = rt.retrieve(knowledgeBaseId=\"{kb}\",\n"
            "                   retrievalQuery={\"text\": q},\n"
            "                   retrievalConfiguration={\"vectorSearchConfiguration\": {\"numberOfResults\": 5}})\n\n"
            "br = boto3.client(\"bedrock-runtime\")\n"
            "out = br.converse(modelId=\"us.anthropic.claude-3-5-sonnet-20241022-v2:0\", messages=msgs,\n"
            f"                  guardrailConfig={{\"guardrailIdentifier\": \"{gr}\", \"guardrailVersion\": \"DRAFT\", \"trace\": \"enabled\"}})\n"
            f"# agent ARN: arn:aws:bedrock:{r}:{a}:agent/{agent}\n")
    return text, [a, agent, alias, kb, gr], ["TSTALIASID", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
                                             "\"guardrailVersion\": \"DRAFT\"", "bedrock-agent-runtime"]


def _v9_bedrock_throughput(g: Gen):
    a, r, pid, name, ip = g.account(), g.region(), g.alnum(12, _LOWER_ALNUM), g.name("pms"), g.alnum(12, _LOWER_ALNUM)
    fm = "anthropic.claude-3-haiku-20240307-v1:0"
    d = {"modelUnits": 1, "desiredModelUnits": 1, "provisionedModelName": name,
         "provisionedModelArn": f"arn:aws:bedrock:{r}:{a}:provisioned-model/{pid}",
         "modelArn": f"arn:aws:bedrock:{r}::foundation-model/{fm}",
         "foundationModelArn": f"arn:aws:bedrock:{r}::foundation-model/{fm}",
         "status": "InService", "creationTime": "2024-05-01T07:00:12.114000+00:00",
         "commitmentDuration": "OneMonth", "commitmentExpirationTime": "2024-06-01T07:00:12.114000+00:00"}
    text = (f"$ aws bedrock get-provisioned-model-throughput --provisioned-model-id {pid}\n" + json.dumps(d, indent=4) +
            f"\n\n$ aws bedrock list-inference-profiles --type-equals APPLICATION --query 'inferenceProfileSummaries[].inferenceProfileArn'\n"
            f"[\n    \"arn:aws:bedrock:{r}:{a}:application-inference-profile/{ip}\"\n]\n")
    return text, [a, pid, name, ip], [f"foundation-model/{fm}", "\"commitmentDuration\": \"OneMonth\"", "InService", "--type-equals APPLICATION"]


# networking: Route 53 zone file, Site-to-Site VPN config, Client VPN .ovpn, Transit Gateway, Direct Connect, PrivateLink
def _v9_route53_bind(g: Gen):
    r, z, lb, cf, b = g.region(), _zone_id(g), g.name("ms"), "d" + g.alnum(13, _LOWER_ALNUM), g.bucket()
    n = g.r.randint(1000000000, 1999999999)
    text = (f"$ cli53 export --full {z}\n$ORIGIN example.org.\n$TTL 300\n"
            "@\t172800\tIN\tNS\tns-1536.awsdns-00.co.uk.\n@\t172800\tIN\tNS\tns-0.awsdns-00.com.\n"
            "@\t900\tIN\tSOA\tns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400\n"
            f"api\t60\tIN\tCNAME\t{lb}-{n}.{r}.elb.amazonaws.com.\n"
            f"cdn\t300\tIN\tCNAME\t{cf}.cloudfront.net.\n"
            f"assets\t300\tIN\tCNAME\t{b}.s3-website-{r}.amazonaws.com.\n"
            "@\t300\tIN\tMX\t10 inbound-smtp.eu-west-1.amazonaws.com.\n"
            "@\t300\tIN\tTXT\t\"v=spf1 include:amazonses.com ~all\"\n")
    return text, [z, lb, str(n), cf, b], ["ns-1536.awsdns-00.co.uk.", "awsdns-hostmaster.amazon.com.", "inbound-smtp.eu-west-1.amazonaws.com.",
                                          "v=spf1 include:amazonses.com ~all"]


def _v9_vpn_config(g: Gen):
    vpn, vgw, cgw = g.hexid("vpn"), g.hexid("vgw"), g.hexid("cgw")
    psk1, psk2 = g.alnum(32, _MIXED_ALNUM + "._"), g.alnum(32, _MIXED_ALNUM + "._")
    cip, aip1, aip2 = f"203.0.113.{g.r.randint(2, 250)}", _pub_ip(g), _pub_ip(g)
    text = ("Amazon Web Services\nVirtual Private Cloud\n\n"
            "AWS utilizes unique identifiers to manipulate the configuration of\n"
            "a VPN Connection. Each VPN Connection is assigned an identifier and is\n"
            "associated with two other identifiers, namely the\n"
            "Customer Gateway Identifier and Virtual Private Gateway Identifier.\n\n"
            f"Your VPN Connection ID 		  : {vpn}\nYour Virtual Private Gateway ID   : {vgw}\nYour Customer Gateway ID	  : {cgw}\n\n"
            "IPSec Tunnel #1\n================================================================================\n"
            "#1: Internet Key Exchange Configuration\n\n"
            "  - Authentication Method    : Pre-Shared Key\n"
            f"  - Pre-Shared Key           : {psk1}\n"
            "  - Authentication Algorithm : sha1\n  - Encryption Algorithm     : aes-128-cbc\n"
            "  - Lifetime                 : 28800 seconds\n  - Phase 1 Negotiation Mode : main\n  - Diffie-Hellman            : Group 2\n\n"
            "#3: Tunnel Interface Configuration\n\nOutside IP Addresses:\n"
            f"  - Customer Gateway 		        : {cip}\n  - Virtual Private Gateway	        : {aip1}\n\n"
            "IPSec Tunnel #2\n"
            f"  - Pre-Shared Key           : {psk2}\n"
            f"  - Virtual Private Gateway	        : {aip2}\n")
    return text, [vpn, vgw, cgw, psk1, psk2, aip1, aip2], ["aes-128-cbc", "28800 seconds", "Phase 1 Negotiation Mode : main",
                                                           "Authentication Method    : Pre-Shared Key"]


def _v9_client_vpn(g: Gen):
    r, ep = g.region(), g.hexid("cvpn-endpoint")
    text = (f"$ aws ec2 export-client-vpn-client-configuration --client-vpn-endpoint-id {ep} --output text > corp.ovpn\n"
            "$ cat corp.ovpn\nclient\ndev tun\nproto udp\n"
            f"remote {ep}.prod.clientvpn.{r}.amazonaws.com 443\n"
            "remote-random-hostname\nresolv-retry infinite\nnobind\nremote-cert-tls server\ncipher AES-256-GCM\nverb 3\n"
            "<ca>\n-----BEGIN CERTIFICATE-----\nMIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF\n"
            "-----END CERTIFICATE-----\n</ca>\nauth-user-pass\nauth-federate\nauth-retry interact\nauth-nocache\nreneg-sec 0\n")
    return text, [ep.split("-", 2)[2]], ["remote-random-hostname", "cipher AES-256-GCM", "auth-federate", "reneg-sec 0"]


def _v9_tgw_routes(g: Gen):
    rtb, v1, v2, at1, at2, vpn = g.hexid("tgw-rtb"), g.hexid("vpc"), g.hexid("vpc"), g.hexid("tgw-attach"), g.hexid("tgw-attach"), g.hexid("vpn")
    at3 = g.hexid("tgw-attach")
    d = {"Routes": [
        {"DestinationCidrBlock": "10.20.0.0/16", "TransitGatewayAttachments": [{"ResourceId": v1, "TransitGatewayAttachmentId": at1, "ResourceType": "vpc"}],
         "Type": "propagated", "State": "active"},
        {"DestinationCidrBlock": "10.30.0.0/16", "TransitGatewayAttachments": [{"ResourceId": v2, "TransitGatewayAttachmentId": at2, "ResourceType": "vpc"}],
         "Type": "static", "State": "active"},
        {"DestinationCidrBlock": "192.168.0.0/16", "TransitGatewayAttachments": [{"ResourceId": vpn, "TransitGatewayAttachmentId": at3, "ResourceType": "vpn"}],
         "Type": "propagated", "State": "active"},
        {"DestinationCidrBlock": "0.0.0.0/0", "Type": "static", "State": "blackhole"}], "AdditionalRoutesAvailable": False}
    text = (f"$ aws ec2 search-transit-gateway-routes --transit-gateway-route-table-id {rtb} --filters Name=state,Values=active,blackhole\n"
            + json.dumps(d, indent=4))
    return text, [rtb, v1, v2, at1, at2, vpn, at3], ["\"State\": \"blackhole\"", "\"Type\": \"propagated\"", "Name=state,Values=active,blackhole"]


def _v9_direct_connect(g: Gen):
    a, vif, con, name, dxgw = g.account(), "dxvif-" + g.alnum(8, _LOWER_ALNUM), "dxcon-" + g.alnum(8, _LOWER_ALNUM), g.name("pms"), _uuid(g)
    auth = g.alnum(24, _MIXED_ALNUM + ".")
    peer = "dxpeer-" + g.alnum(8, _LOWER_ALNUM)
    d = {"virtualInterfaces": [{"ownerAccount": a, "virtualInterfaceId": vif, "location": "EqDC2", "connectionId": con,
                                "virtualInterfaceType": "private", "virtualInterfaceName": name, "vlan": 412, "asn": 65010,
                                "amazonSideAsn": 64512, "authKey": auth, "amazonAddress": "169.254.255.1/30",
                                "customerAddress": "169.254.255.2/30", "addressFamily": "ipv4", "virtualInterfaceState": "available",
                                "mtu": 9001, "jumboFrameCapable": True, "directConnectGatewayId": dxgw,
                                "bgpPeers": [{"bgpPeerId": peer, "asn": 65010, "authKey": auth, "bgpPeerState": "available",
                                              "bgpStatus": "down", "awsDeviceV2": "EqDC2-2lt2xp1q62ocm"}],
                                "region": "us-east-1", "awsDeviceV2": "EqDC2-2lt2xp1q62ocm"}]}
    text = f"$ aws directconnect describe-virtual-interfaces --connection-id {con}\n" + json.dumps(d, indent=4)
    return text, [a, vif, con, name, dxgw, auth, peer], ["\"amazonSideAsn\": 64512", "\"bgpStatus\": \"down\"", "\"mtu\": 9001",
                                                         "\"virtualInterfaceType\": \"private\""]


def _v9_privatelink(g: Gen):
    r, svc, vpce, nlb, h = g.region(), g.hexid("vpce-svc"), g.hexid("vpce"), g.name("ms"), g.alnum(16, _HEX)
    a = g.account()
    d = {"ServiceDetails": [{"ServiceName": f"com.amazonaws.vpce.{r}.{svc}", "ServiceId": svc, "ServiceType": [{"ServiceType": "Interface"}],
                             "AvailabilityZones": [r + "a", r + "b"], "Owner": a, "AcceptanceRequired": True,
                             "BaseEndpointDnsNames": [f"{svc}.{r}.vpce.amazonaws.com"]},
                            {"ServiceName": f"com.amazonaws.{r}.s3", "ServiceType": [{"ServiceType": "Gateway"}], "Owner": "amazon",
                             "BaseEndpointDnsNames": [f"s3.{r}.amazonaws.com"]}]}
    text = ("$ aws ec2 describe-vpc-endpoint-services --filters Name=owner,Values=self,amazon\n" + json.dumps(d, indent=2) +
            f"\n\n$ curl -s https://{vpce}-{g.alnum(8, _LOWER_ALNUM)}.{svc}.{r}.vpce.amazonaws.com/health\n"
            f"# backed by arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/net/{nlb}/{h}\n")
    return text, [svc, vpce, a, nlb, h], [f"com.amazonaws.{r}.s3", "\"Owner\": \"amazon\"", "\"ServiceType\": \"Gateway\""]


# identity: IAM Identity Center config, SSO token cache, permission sets, decoded authorization messages,
# Access Analyzer / Macie / Inspector findings, CloudTrail Lake
def _v9_sso_config(g: Gen):
    a1, a2, d, ps = g.account(), g.account(), "d-" + g.alnum(10, "0123456789abcdef"), g.name("Camel").replace("Table", "Access").replace("Queue", "Ops").replace("Stack", "Dev").replace("Service", "Admin")
    text = ("$ cat ~/.aws/config\n[profile prod-admin]\nsso_session = corp\n"
            f"sso_account_id = {a1}\nsso_role_name = AdministratorAccess\nregion = eu-west-1\noutput = json\n\n"
            f"[profile data-readonly]\nsso_session = corp\nsso_account_id = {a2}\nsso_role_name = {ps}\nregion = eu-west-1\n\n"
            f"[sso-session corp]\nsso_start_url = https://{d}.awsapps.com/start\nsso_region = us-east-1\n"
            "sso_registration_scopes = sso:account:access\n\n"
            "$ aws sso login --profile prod-admin\nAttempting to automatically open the SSO authorization page in your default browser.\n"
            "If the browser does not open or you wish to use a different device to authorize this request, open the following URL:\n\n"
            "https://device.sso.us-east-1.amazonaws.com/\n\nThen enter the code:\n\nQXRT-KWZB\n")
    return text, [a1, a2, d, ps], ["sso_registration_scopes = sso:account:access", "AdministratorAccess",
                                   "https://device.sso.us-east-1.amazonaws.com/"]


def _v9_sso_cache(g: Gen):
    d, at, rt = "d-" + g.alnum(10, "0123456789abcdef"), "aoa" + g.alnum(180, _MIXED_ALNUM), "aor" + g.alnum(180, _MIXED_ALNUM)
    cs = "eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0." + g.alnum(200, _MIXED_ALNUM + "_-")
    fn = _sha(g)
    body = {"startUrl": f"https://{d}.awsapps.com/start", "region": "us-east-1", "accessToken": at,
            "expiresAt": "2024-05-14T18:22:33Z", "clientId": g.alnum(22, _MIXED_ALNUM + "_-"), "clientSecret": cs,
            "registrationExpiresAt": "2024-08-12T10:22:31Z", "refreshToken": rt}
    text = f"$ cat ~/.aws/sso/cache/{fn}.json\n" + json.dumps(body)
    return text, [d, at, rt, cs], [fn, "2024-05-14T18:22:33Z", "\"region\": \"us-east-1\""]


def _v9_permission_set(g: Gen):
    ins, ps, name, a, uid = "ssoins-" + g.alnum(16, _HEX), "ps-" + g.alnum(16, _HEX), g.name("Camel"), g.account(), g.alnum(10, "0123456789") + "-" + _uuid(g)
    d1 = {"PermissionSet": {"Name": name, "PermissionSetArn": f"arn:aws:sso:::permissionSet/{ins}/{ps}",
                            "Description": "Read-only access to the data lake", "CreatedDate": "2024-02-12T10:19:44.318000+00:00",
                            "SessionDuration": "PT8H"}}
    d2 = {"AccountAssignments": [{"AccountId": a, "PermissionSetArn": f"arn:aws:sso:::permissionSet/{ins}/{ps}",
                                  "PrincipalType": "USER", "PrincipalId": uid}]}
    text = (f"$ aws sso-admin describe-permission-set --instance-arn arn:aws:sso:::instance/{ins} --permission-set-arn arn:aws:sso:::permissionSet/{ins}/{ps}\n"
            + json.dumps(d1, indent=4) + f"\n$ aws sso-admin list-account-assignments --instance-arn arn:aws:sso:::instance/{ins} --account-id {a} --permission-set-arn arn:aws:sso:::permissionSet/{ins}/{ps}\n"
            + json.dumps(d2, indent=4))
    return text, [ins, ps, name, a, uid], ["\"SessionDuration\": \"PT8H\"", "\"PrincipalType\": \"USER\"", "Read-only access to the data lake"]


def _v9_decode_auth(g: Gen):
    a, r, role, aroa, iid, v = g.account(), g.region(), g.name("pms"), _aroa(g), g.iid(), g.hexid("vpc")
    d = {"allowed": False, "explicitDeny": True, "matchedStatements": {"items": [{"statementId": "DenyLargeInstances", "effect": "DENY",
         "principals": {"items": [{"value": aroa}]}, "principalGroups": {"items": []},
         "actions": {"items": [{"value": "ec2:RunInstances"}]}, "resources": {"items": [{"value": "*"}]},
         "conditions": {"items": [{"key": "ec2:InstanceType", "values": {"items": [{"value": "t3.micro"}, {"value": "t3.small"}]}}]}}]},
         "failures": {"items": []},
         "context": {"principal": {"id": f"{aroa}:{iid}", "arn": f"arn:aws:sts::{a}:assumed-role/{role}/{iid}"},
                     "action": "ec2:RunInstances", "resource": f"arn:aws:ec2:{r}:{a}:instance/*",
                     "conditions": {"items": [{"key": "ec2:InstanceType", "values": {"items": [{"value": "m5.4xlarge"}]}},
                                              {"key": "ec2:Vpc", "values": {"items": [{"value": f"arn:aws:ec2:{r}:{a}:vpc/{v}"}]}},
                                              {"key": "aws:Account", "values": {"items": [{"value": a}]}},
                                              {"key": "ec2:Tenancy", "values": {"items": [{"value": "default"}]}}]}}}
    text = ("$ aws sts decode-authorization-message --encoded-message \"$MSG\" --query DecodedMessage --output text | jq .\n"
            + json.dumps(d, indent=2))
    return text, [a, role, aroa, iid, v], ["ec2:RunInstances", "m5.4xlarge", "DenyLargeInstances", "\"explicitDeny\": true"]


def _v9_access_analyzer(g: Gen):
    a, r, an, b, ext, o, fid = g.account(), g.region(), g.name("pms"), g.bucket(), g.account(), g.org(), _uuid(g)
    d = {"id": fid, "analyzerArn": f"arn:aws:access-analyzer:{r}:{a}:analyzer/{an}", "resource": f"arn:aws:s3:::{b}",
         "resourceType": "AWS::S3::Bucket", "resourceOwnerAccount": a, "principal": {"AWS": ext},
         "action": ["s3:GetObject", "s3:ListBucket"], "condition": {"aws:PrincipalOrgID": o}, "isPublic": False,
         "status": "ACTIVE", "findingType": "ExternalAccess", "createdAt": "2024-05-14T08:14:01.337Z",
         "analyzedAt": "2024-05-14T08:14:01.337Z", "updatedAt": "2024-05-14T08:14:01.337Z"}
    text = f"$ aws accessanalyzer get-finding --analyzer-arn arn:aws:access-analyzer:{r}:{a}:analyzer/{an} --id {fid}\n" + json.dumps({"finding": d}, indent=2)
    return text, [a, an, b, ext, o], [fid, "AWS::S3::Bucket", "ExternalAccess", "\"isPublic\": false"]


def _v9_macie(g: Gen):
    a, r, b, job, who = g.account(), g.region(), g.bucket(), g.alnum(32, _HEX), g.person().replace(".", "-")
    fid = g.alnum(32, _HEX)
    d = {"accountId": a, "category": "CLASSIFICATION", "id": fid, "region": r, "severity": {"description": "High", "score": 3},
         "type": "SensitiveData:S3Object/Credentials", "title": "The S3 object contains credentials data.",
         "resourcesAffected": {"s3Bucket": {"arn": f"arn:aws:s3:::{b}", "name": b, "owner": {"displayName": who, "id": _sha(g, 64)},
                                            "publicAccess": {"effectivePermission": "NOT_PUBLIC"}},
                               "s3Object": {"key": "exports/2024/05/config-backup.env", "extension": "env", "size": 1832,
                                            "storageClass": "STANDARD", "serverSideEncryption": {"encryptionType": "aws:kms"}}},
         "classificationDetails": {"jobArn": f"arn:aws:macie2:{r}:{a}:classification-job/{job}", "jobId": job,
                                   "result": {"status": {"code": "COMPLETE"}, "sensitiveData": [
                                       {"category": "CREDENTIALS", "detections": [{"type": "AWS_CREDENTIALS", "count": 2}]}]}}}
    text = json.dumps(d, indent=1)
    return text, [a, b, job, who], [fid, "SensitiveData:S3Object/Credentials", "NOT_PUBLIC", "AWS_CREDENTIALS"]


def _v9_inspector(g: Gen):
    a, r, iid, ami, key, prof, vpc, sn = g.account(), g.region(), g.iid(), g.hexid("ami"), g.name("ms"), g.name("pms"), g.hexid("vpc"), g.hexid("subnet")
    repo, fid = g.name("ms"), g.alnum(32, _HEX)
    dig = "sha256:" + _sha(g, 64)
    d = {"findings": [{"awsAccountId": a, "findingArn": f"arn:aws:inspector2:{r}:{a}:finding/{fid}", "type": "PACKAGE_VULNERABILITY",
                       "severity": "CRITICAL", "status": "ACTIVE", "title": "CVE-2024-3094 - xz, xz-libs",
                       "resources": [{"type": "AWS_EC2_INSTANCE", "id": iid, "region": r, "details": {"awsEc2Instance": {
                           "imageId": ami, "ipV4Addresses": [_ip10(g)], "keyName": key,
                           "iamInstanceProfileArn": f"arn:aws:iam::{a}:instance-profile/{prof}", "vpcId": vpc, "subnetId": sn,
                           "type": "t3.medium", "platform": "AMAZON_LINUX_2023"}}}],
                       "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-3094", "source": "NVD",
                                                       "vulnerablePackages": [{"name": "xz-libs", "version": "5.4.1", "release": "1.amzn2023.0.3"}]}},
                      {"awsAccountId": a, "type": "PACKAGE_VULNERABILITY", "severity": "HIGH", "title": "CVE-2023-44487 - golang.org/x/net",
                       "resources": [{"type": "AWS_ECR_CONTAINER_IMAGE", "id": f"arn:aws:ecr:{r}:{a}:repository/{repo}/{dig}",
                                      "details": {"awsEcrContainerImage": {"repositoryName": repo, "imageHash": dig, "imageTags": ["v1.14.2"],
                                                                           "registry": a, "architecture": "amd64"}}}]}]}
    text = json.dumps(d, indent=2)
    return text, [a, iid, ami, key, prof, vpc, sn, repo], ["CVE-2024-3094", "t3.medium", "AMAZON_LINUX_2023", f'"imageHash": "{dig}"', "1.amzn2023.0.3"]


def _v9_cloudtrail_lake(g: Gen):
    a, r, eds, b, role = g.account(), g.region(), _uuid(g), g.bucket(), g.name("pms")
    text = (f"$ aws cloudtrail start-query --query-statement \"$(cat q.sql)\"\n-- q.sql\n"
            "SELECT eventTime, userIdentity.arn, eventName, sourceIPAddress, errorCode\n"
            f"FROM {eds}\n"
            f"WHERE recipientAccountId = '{a}'\n  AND eventSource = 's3.amazonaws.com'\n"
            "  AND eventName IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl')\n"
            f"  AND element_at(requestParameters, 'bucketName') = '{b}'\n"
            f"  AND userIdentity.arn LIKE 'arn:aws:sts::{a}:assumed-role/{role}/%'\n"
            "  AND eventTime > '2024-05-01 00:00:00'\nORDER BY eventTime DESC LIMIT 50\n\n"
            f"{{\n    \"QueryId\": \"{_uuid(g)}\",\n    \"EventDataStoreOwnerAccountId\": \"{a}\"\n}}\n"
            f"# data store: arn:aws:cloudtrail:{r}:{a}:eventdatastore/{eds}\n")
    return text, [a, eds, b, role], ["s3.amazonaws.com", "PutBucketPolicy", "recipientAccountId", "ORDER BY eventTime DESC LIMIT 50"]


# databases and brokers: RDS/Aurora JDBC, psql with an IAM token, Redshift, DMS, ElastiCache, OpenSearch,
# DocumentDB / Neptune, MSK, Amazon MQ
def _v9_jdbc_aurora(g: Gen):
    r, cl, h, pw, db = g.region(), g.name("pms"), _rds_hash(g), g.alnum(24, _MIXED_ALNUM), g.name("p_m_s")
    text = ("# src/main/resources/application-prod.properties\n"
            f"spring.datasource.url=jdbc:postgresql://{cl}.cluster-{h}.{r}.rds.amazonaws.com:5432/{db}?sslmode=verify-full&sslrootcert=/etc/ssl/global-bundle.pem\n"
            "spring.datasource.username=app_rw\n"
            f"spring.datasource.password={pw}\n"
            f"app.readonly.url=jdbc:aws-wrapper:postgresql://{cl}.cluster-ro-{h}.{r}.rds.amazonaws.com:5432/{db}?wrapperPlugins=failover,efm2\n"
            "spring.datasource.hikari.maximum-pool-size=20\n"
            "spring.jpa.properties.hibernate.dialect=org.hibernate.dialect.PostgreSQLDialect\n")
    return text, [cl, h, pw, db], ["sslmode=verify-full", "wrapperPlugins=failover,efm2", "org.hibernate.dialect.PostgreSQLDialect",
                                   "spring.datasource.hikari.maximum-pool-size=20"]


def _v9_psql_iam(g: Gen):
    r, inst, h, key, tok = g.region(), g.name("pms"), _rds_hash(g), _asia(g), _session_token(g)
    sig = g.alnum(64, _HEX)
    host = f"{inst}.{h}.{r}.rds.amazonaws.com"
    token = (f"{host}:5432/?Action=connect&DBUser=iam_reader&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}%2F20240514%2F{r}%2Frds-db%2Faws4_request"
             f"&X-Amz-Date=20240514T102233Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token={quote(tok, safe='')}&X-Amz-Signature={sig}")
    text = (f"$ export PGPASSWORD=\"$(aws rds generate-db-auth-token --hostname {host} --port 5432 --region {r} --username iam_reader)\"\n"
            "$ echo $PGPASSWORD\n" + token + "\n"
            f"$ psql \"host={host} port=5432 dbname=orders user=iam_reader sslmode=verify-full sslrootcert=global-bundle.pem\"\n"
            f"psql: error: connection to server at \"{host}\" ({_ip10(g)}), port 5432 failed: FATAL:  PAM authentication failed for user \"iam_reader\"\n")
    return text, [inst, h, key, tok, sig], ["AWS4-HMAC-SHA256", "X-Amz-Expires=900", "PAM authentication failed for user \"iam_reader\""]


def _v9_redshift(g: Gen):
    a, r, cl, h, wg, role, b = g.account(), g.region(), g.name("pms"), _rds_hash(g), g.name("ms"), g.name("pms"), g.bucket()
    text = (f"jdbc:redshift:iam://{cl}.{h}.{r}.redshift.amazonaws.com:5439/dev?DbUser=etl_loader&AutoCreate=true&ClusterID={cl}&Region={r}\n"
            f"jdbc:redshift://{wg}.{a}.{r}.redshift-serverless.amazonaws.com:5439/dev\n\n"
            "COPY analytics.orders\n"
            f"FROM 's3://{b}/exports/orders/dt=2024-05-13/'\n"
            f"IAM_ROLE 'arn:aws:iam::{a}:role/{role}'\n"
            "FORMAT AS PARQUET;\n\n"
            "ERROR:  Spectrum Scan Error\nDETAIL:\n  -----------------------------------------------\n"
            "  error:  Spectrum Scan Error\n  code:      15007\n"
            f"  context:   File 'https://s3.{r}.amazonaws.com/{b}/exports/orders/dt=2024-05-13/part-00000.parquet' has an incompatible Parquet schema\n")
    return text, [a, cl, h, wg, role, b], ["FORMAT AS PARQUET", "Spectrum Scan Error", "code:      15007"]


def _v9_dms(g: Gen):
    a, r, ident, host, h, k, b, role = g.account(), g.region(), g.name("pms"), g.name("pms"), _rds_hash(g), _uuid(g), g.bucket(), g.name("pms")
    earn = g.alnum(26, _UPPER_ALNUM)
    tarn = g.alnum(26, _UPPER_ALNUM)
    d = {"Endpoints": [{"EndpointIdentifier": ident, "EndpointType": "SOURCE", "EngineName": "aurora-postgresql",
                        "EngineDisplayName": "Amazon Aurora PostgreSQL", "Username": "dms_user",
                        "ServerName": f"{host}.cluster-{h}.{r}.rds.amazonaws.com", "Port": 5432, "DatabaseName": "orders",
                        "Status": "active", "KmsKeyId": f"arn:aws:kms:{r}:{a}:key/{k}",
                        "EndpointArn": f"arn:aws:dms:{r}:{a}:endpoint:{earn}", "SslMode": "require"},
                       {"EndpointIdentifier": ident + "-s3", "EndpointType": "TARGET", "EngineName": "s3",
                        "S3Settings": {"BucketName": b, "BucketFolder": "cdc", "ServiceAccessRoleArn": f"arn:aws:iam::{a}:role/{role}",
                                       "DataFormat": "parquet", "CdcInsertsOnly": False}}]}
    text = ("$ aws dms describe-endpoints\n" + json.dumps(d, indent=4) +
            f"\n\nLast Error Replication task arn:aws:dms:{r}:{a}:task:{tarn} stopped: Last Error ODBC general error. "
            "Task error notification received from subtask 0, thread 0 [reptask/replicationtask.c:2883] [1022502]\n")
    return text, [a, ident, host, h, k, b, role, earn, tarn], ["aurora-postgresql", "Amazon Aurora PostgreSQL", "\"EndpointType\": \"SOURCE\"",
                                                              "[reptask/replicationtask.c:2883] [1022502]"]


def _v9_redis_cluster(g: Gen):
    rg, h, r = g.name("pms"), g.alnum(6, _LOWER_ALNUM), g.pick(["use1", "euw1", "usw2", "apse2"])
    nodes = [_sha(g) for _ in range(4)]
    ips = [_ip10(g) for _ in range(4)]
    cfg = f"clustercfg.{rg}.{h}.{r}.cache.amazonaws.com"
    text = (f"$ redis-cli -h {cfg} -p 6379 --tls -c\n{cfg}:6379> CLUSTER NODES\n"
            f"{nodes[0]} {ips[0]}:6379@1122 myself,master - 0 1715680000000 1 connected 0-8191\n"
            f"{nodes[1]} {ips[1]}:6379@1122 slave {nodes[0]} 0 1715680001012 1 connected\n"
            f"{nodes[2]} {ips[2]}:6379@1122 master - 0 1715680001517 2 connected 8192-16383\n"
            f"{nodes[3]} {ips[3]}:6379@1122 slave {nodes[2]} 0 1715680000503 2 connected\n"
            f"{cfg}:6379> GET session:7f3a\n(error) MOVED 9189 {rg}-0002-001.{rg}.{h}.{r}.cache.amazonaws.com:6379\n")
    return text, [rg, h], ["myself,master", "connected 0-8191", "(error) MOVED 9189"] + nodes[:1]


def _v9_opensearch(g: Gen):
    r, dom, h = g.region(), g.name("ms"), g.alnum(26, _LOWER_ALNUM)
    u1, u2, u3 = g.alnum(22, _MIXED_ALNUM), g.alnum(22, _MIXED_ALNUM), g.alnum(22, _MIXED_ALNUM)
    text = (f"$ curl -s -u admin:\"$OS_PASS\" https://search-{dom}-{h}.{r}.es.amazonaws.com/_cat/indices?v\n"
            "health status index                          uuid                   pri rep docs.count docs.deleted store.size pri.store.size\n"
            f"green  open   .opendistro-job-scheduler-lock {u1}   1   1          3            0     32.4kb         16.2kb\n"
            f"yellow open   app-logs-2024.05.14            {u2}   5   1    1843220            0      1.1gb        562mb\n"
            f"green  open   .kibana_1                      {u3}   1   1         41            2    118.7kb         59.3kb\n"
            f"$ curl -s https://vpc-{dom}-{h}.{r}.es.amazonaws.com/_cluster/health | jq -r .status\nyellow\n")
    return text, [dom, h], [".opendistro-job-scheduler-lock", "docs.count docs.deleted store.size", u1, "app-logs-2024.05.14"]


def _v9_docdb_neptune(g: Gen):
    r, dcl, ncl, h, user, pw = g.region(), g.name("pms"), g.name("pms"), _rds_hash(g), g.name("p_m_s"), g.alnum(20, _MIXED_ALNUM)
    text = ("# .env.production\n"
            f"MONGO_URI=mongodb://{user}:{pw}@{dcl}.cluster-{h}.{r}.docdb.amazonaws.com:27017/?tls=true&tlsCAFile=global-bundle.pem"
            "&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false\n"
            f"GREMLIN_ENDPOINT=wss://{ncl}.cluster-ro-{h}.{r}.neptune.amazonaws.com:8182/gremlin\n"
            f"SPARQL_ENDPOINT=https://{ncl}.cluster-{h}.{r}.neptune.amazonaws.com:8182/sparql\n"
            "NEPTUNE_IAM_AUTH=true\n")
    return text, [dcl, ncl, h, pw], ["replicaSet=rs0", "readPreference=secondaryPreferred", "NEPTUNE_IAM_AUTH=true", ":8182/gremlin"]


def _v9_msk(g: Gen):
    a, r, name, cid, u = g.account(), g.region(), g.name("ms"), g.alnum(6, _LOWER_ALNUM), _uuid(g)
    c = g.pick(["c2", "c3", "c4"])
    brokers = ",".join(f"b-{i}.{name}.{cid}.{c}.kafka.{r}.amazonaws.com:9098" for i in (1, 2, 3))
    text = (f"$ aws kafka get-bootstrap-brokers --cluster-arn arn:aws:kafka:{r}:{a}:cluster/{name}/{u}-{g.r.randint(2, 25)}\n"
            f"{{\n    \"BootstrapBrokerStringSaslIam\": \"{brokers}\"\n}}\n"
            "$ cat client.properties\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\n"
            "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;\n"
            "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler\n"
            f"$ kafka-console-producer.sh --bootstrap-server b-1.{name}.{cid}.{c}.kafka.{r}.amazonaws.com:9098 --producer.config client.properties --topic orders.v1\n")
    return text, [a, name, cid, u], ["software.amazon.msk.auth.iam.IAMLoginModule required;", "sasl.mechanism=AWS_MSK_IAM", "--topic orders.v1"]


def _v9_amazon_mq(g: Gen):
    a, r, name, bid, pw = g.account(), g.region(), g.name("pms"), "b-" + _uuid(g), g.alnum(16, _MIXED_ALNUM)
    text = (f"$ aws mq describe-broker --broker-id {bid} --query 'BrokerInstances'\n"
            f"[\n    {{\n        \"ConsoleURL\": \"https://{bid}-1.mq.{r}.amazonaws.com:8162\",\n"
            f"        \"Endpoints\": [\n            \"ssl://{bid}-1.mq.{r}.amazonaws.com:61617\",\n"
            f"            \"amqp+ssl://{bid}-1.mq.{r}.amazonaws.com:5671\",\n"
            f"            \"stomp+ssl://{bid}-1.mq.{r}.amazonaws.com:61614\"\n        ]\n    }}\n]\n"
            f"# broker: arn:aws:mq:{r}:{a}:broker:{name}:{bid}\n"
            f"spring.activemq.broker-url=failover:(ssl://{bid}-1.mq.{r}.amazonaws.com:61617,ssl://{bid}-2.mq.{r}.amazonaws.com:61617)\n"
            f"spring.activemq.user=app\nspring.activemq.password={pw}\n")
    return text, [a, name, bid[2:], pw], ["ssl://", ":61617", "spring.activemq.user=app"]


# prose: Thai, Arabic, Hebrew, Ukrainian, Greek, Czech, Swedish, Finnish, Hungarian, Romanian
def _v9_th_chat(g: Gen):
    b, a, fn, r = g.bucket(), g.account(), _fn(g), g.region()
    text = (f"สวัสดีครับ ตอนนี้ Lambda ฟังก์ชัน {fn} อ่านไฟล์จากบัคเก็ต {b} ไม่ได้ ขึ้น AccessDenied ตลอด "
            f"บัญชี {a} ภูมิภาค {r} ครับ ลองเพิ่มสิทธิ์ s3:GetObject แล้วก็ยังไม่หาย ใครพอช่วยดูได้บ้างครับ")
    return text, [b, a, fn], ["AccessDenied", "s3:GetObject"]


def _v9_ar_ticket(g: Gen):
    a, iid, sg, key = g.account(), g.iid(), g.hexid("sg"), g.akid()
    text = (f"مرحباً، الخادم {iid} في الحساب {a} لا يستجيب منذ الساعة 03:00 UTC. "
            f"مجموعة الأمان {sg} تسمح فقط بالمنفذ 443. "
            f"أيضاً وجدنا مفتاح الوصول {key} مكشوفاً في المستودع، يرجى تعطيله فوراً.")
    return text, [a, iid, sg, key], ["03:00 UTC", "بالمنفذ 443"]


def _v9_he_note(g: Gen):
    t, a, r, q = g.name(), g.account(), g.region(), g.name("pms")
    text = (f"שלום צוות, הטבלה {t} ב-DynamoDB בחשבון {a} מגיעה ל-throttling כל לילה. "
            f"התור {q} ב-SQS מתמלא ב-{r} אחרי 02:00. מצרף גרף מ-CloudWatch.")
    return text, [t, a, q], ["throttling", "02:00", "CloudWatch"]


def _v9_uk_ticket(g: Gen):
    a, cl, role, v = g.account(), g.name("pms"), g.name("pms"), g.hexid("vpc")
    text = (f"Привіт! Кластер EKS «{cl}» в акаунті {a} не бачить вузлів після оновлення до 1.29. "
            f"Роль вузлів arn:aws:iam::{a}:role/{role} є в aws-auth, VPC {v} без змін. "
            "Що ще перевірити?")
    return text, [a, cl, role, v], ["1.29", "aws-auth"]


def _v9_el_chat(g: Gen):
    db, a, snap, r = g.name("pms"), g.account(), g.name("pmsn"), g.region()
    text = (f"Καλημέρα! Η βάση RDS {db} στον λογαριασμό {a} γέμισε τον δίσκο στις 04:10. "
            f"Έχουμε snapshot με όνομα {snap} από χθες στην περιοχή {r}. Να κάνουμε restore ή να αυξήσουμε το storage σε 500 GiB;")
    return text, [db, a, snap], ["04:10", "500 GiB"]


def _v9_cs_ticket(g: Gen):
    b, a, dist, k = g.bucket(), g.account(), _cf_dist(g), _uuid(g)
    r = g.region()
    text = (f"Ahoj, CloudFront distribuce {dist} vrací 403 pro všechny soubory z bucketu {b}. "
            f"Bucket je šifrovaný klíčem arn:aws:kms:{r}:{a}:key/{k} a OAC jsme přidali včera. "
            "Chyba: AccessDenied. Díky za radu!")
    return text, [b, a, dist, k], ["vrací 403 pro", "AccessDenied", "OAC"]


def _v9_sv_chat(g: Gen):
    a, fn, tbl, sec = g.account(), _fn(g), g.name(), g.name("pms")
    text = (f"Hej! Funktionen {fn} i konto {a} får timeout mot tabellen {tbl} sedan i morse. "
            f"Hemligheten {sec} i Secrets Manager roterades 08:15 – kan det hänga ihop? Timeout är satt till 30 sekunder.")
    return text, [a, fn, tbl, sec], ["08:15", "30 sekunder", "Secrets Manager"]


def _v9_fi_note(g: Gen):
    a, iid, vol, az = g.account(), g.iid(), g.hexid("vol"), g.az()
    text = (f"Moi, instanssi {iid} tilillä {a} kaatui yöllä. Levy {vol} on edelleen liitettynä, "
            f"saatavuusalue {az}. Tyyppi on m6i.large, ja CPU oli 100 % ennen kaatumista.")
    return text, [a, iid, vol], ["m6i.large", "CPU oli 100 %", az]


def _v9_hu_ticket(g: Gen):
    a, b, role, k = g.account(), g.bucket(), g.name("pms"), g.akid()
    text = (f"Sziasztok! A(z) {b} vödörbe nem tud írni a {role} szerepkör a(z) {a} fiókban. "
            f"Régen a(z) {k} hozzáférési kulccsal ment, de azt letiltottuk. A hibaüzenet: AccessDenied (PutObject).")
    return text, [a, b, role, k], ["AccessDenied (PutObject)"]


def _v9_ro_chat(g: Gen):
    a, cl, svc, lb, r = g.account(), g.name("pms"), g.name("ms"), g.name("ms"), g.region()
    h = g.alnum(16, _HEX)
    text = (f"Salut! Serviciul ECS {svc} din clusterul {cl} (contul {a}) nu trece de health check. "
            f"Target group-ul e arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{lb}/{h}, portul 8080, calea /healthz. "
            "Ați mai văzut asta?")
    return text, [a, cl, svc, lb, h], ["portul 8080", "calea /healthz"]


# negatives: nothing here identifies a customer's resource or account
def _v9_neg_gha_log(g: Gen):
    sha, run = _sha(g), str(g.r.randint(8000000000, 9999999999))
    text = ("Current runner version: '2.316.1'\nOperating System\n  Ubuntu\n  22.04.4\n  LTS\nRunner Image\n"
            "  Image: ubuntu-22.04\n  Version: 20240512.1.0\n"
            "Run actions/checkout@v4\nSyncing repository: octo-org/payments-api\n"
            f"HEAD is now at {sha[:7]} chore: bump aws-sdk-go-v2 to v1.27.0\n"
            f"Run aws-actions/configure-aws-credentials@v4\nNode.js 16 actions are deprecated.\nRun ID: {run}\n"
            "##[group]Run npm ci\nadded 812 packages in 14s\n##[endgroup]\n")
    return text, [], ["'2.316.1'", "ubuntu-22.04", "20240512.1.0", sha[:7], "v1.27.0", run, "aws-actions/configure-aws-credentials@v4"]


def _v9_neg_managed(g: Gen):
    r = g.region()
    text = ("Managed policies attached:\n"
            "  arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess\n"
            "  arn:aws:iam::aws:policy/service-role/AmazonSageMakerFullAccess\n"
            "  arn:aws:iam::aws:policy/AWSGlueConsoleFullAccess\n"
            "Trusted services: glue.amazonaws.com, sagemaker.amazonaws.com, bedrock.amazonaws.com, codebuild.amazonaws.com\n"
            f"Gateway endpoint: com.amazonaws.{r}.s3\n"
            f"Foundation model: arn:aws:bedrock:{r}::foundation-model/amazon.titan-embed-text-v2:0\n"
            "Public hosts: sts.amazonaws.com, oidc.eks.amazonaws.com, ecr-public.aws.com, public.ecr.aws/aws-cli/aws-cli:2.15.30\n")
    return text, [], ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/service-role/AmazonSageMakerFullAccess",
                      "glue.amazonaws.com", "bedrock.amazonaws.com", f"com.amazonaws.{r}.s3",
                      f"arn:aws:bedrock:{r}::foundation-model/amazon.titan-embed-text-v2:0", "public.ecr.aws/aws-cli/aws-cli:2.15.30"]


def _v9_neg_sql(g: Gen):
    q = _uuid(g)
    text = ("-- Athena: which partitions are missing?\n"
            "SELECT table_schema, table_name, column_name, data_type\nFROM information_schema.columns\n"
            "WHERE table_schema = 'default' AND data_type LIKE 'array%'\nORDER BY 1, 2;\n\n"
            f"Query ID: {q}\nRun time: 1.42 sec\nData scanned: 0.00 KB\n\n"
            "MSCK REPAIR TABLE sales;\n"
            "spark.sql.adaptive.enabled=true\nspark.sql.shuffle.partitions=400\nspark.serializer=org.apache.spark.serializer.KryoSerializer\n")
    return text, [], [q, "information_schema.columns", "Run time: 1.42 sec", "spark.sql.shuffle.partitions=400",
                      "org.apache.spark.serializer.KryoSerializer", "MSCK REPAIR TABLE sales;"]


def _v9_neg_network(g: Gen):
    r = g.region()
    text = ("IKE version: ikev2\nPhase 1 encryption: AES256-GCM-16\nPhase 1 DH groups: 19, 20, 21\n"
            "Amazon side ASN: 64512\nTunnel inside CIDR: 169.254.10.0/30\nDPD timeout: 30 seconds, action: restart\n"
            "NS: ns-1536.awsdns-00.co.uk, ns-512.awsdns-00.net\n"
            f"Ranges: https://ip-ranges.amazonaws.com/ip-ranges.json (service AMAZON, region {r})\n"
            "Instance metadata: http://169.254.169.254/latest/meta-data/ and [fd00:ec2::254]\n"
            "Docs: https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html\n")
    return text, [], ["AES256-GCM-16", "Amazon side ASN: 64512", "ns-1536.awsdns-00.co.uk", "https://ip-ranges.amazonaws.com/ip-ranges.json",
                      "http://169.254.169.254/latest/meta-data/", "https://docs.aws.amazon.com/vpn/latest/s2svpn/VPNTunnels.html", r]


VARIANTS_9: list[Template] = [
    # CI/CD: GitHub Actions workflow and run log, GitLab CI, CodeBuild buildspec and build log, CodePipeline state,
    # CodeDeploy, Jenkins console, Argo CD Application and cluster secret, ECS deploy action log (#0-#9)
    _v9_gha_workflow, _v9_gha_run_log, _v9_gitlab_ci, _v9_buildspec, _v9_codebuild_log, _v9_codepipeline_state,
    _v9_codedeploy, _v9_jenkins, _v9_argocd, _v9_ecs_deploy_log,
    # data platforms: spark-defaults.conf, EMR step log and describe-cluster, Glue script and get-table, Athena
    # CloudTrail and ALB DDL and get-query-execution, Airflow DAG and connection URI, dbt profiles.yml, Snowflake
    # storage integration and DESC INTEGRATION, Databricks cluster JSON and Unity Catalog location (#10-#24)
    _v9_spark_defaults, _v9_emr_step_log, _v9_emr_describe, _v9_glue_script, _v9_glue_get_table, _v9_athena_cloudtrail_ddl,
    _v9_athena_alb, _v9_athena_execution, _v9_airflow_dag, _v9_airflow_conn, _v9_dbt_profiles, _v9_snowflake_integration,
    _v9_snowflake_desc, _v9_databricks_cluster, _v9_databricks_uc,
    # ML: SageMaker SDK, training log, endpoint config and invoke error; Bedrock invocation log, agents / knowledge
    # bases / guardrails, provisioned throughput and inference profiles (#25-#30)
    _v9_sagemaker_sdk, _v9_sagemaker_training_log, _v9_sagemaker_endpoint, _v9_bedrock_invocation_log, _v9_bedrock_agent,
    _v9_bedrock_throughput,
    # networking: Route 53 zone export, Site-to-Site VPN config, Client VPN .ovpn, Transit Gateway routes, Direct
    # Connect, PrivateLink (#31-#36)
    _v9_route53_bind, _v9_vpn_config, _v9_client_vpn, _v9_tgw_routes, _v9_direct_connect, _v9_privatelink,
    # identity: Identity Center config, SSO cache, permission sets, decoded authorization message, Access Analyzer,
    # Macie, Inspector, CloudTrail Lake (#37-#44)
    _v9_sso_config, _v9_sso_cache, _v9_permission_set, _v9_decode_auth, _v9_access_analyzer, _v9_macie, _v9_inspector,
    _v9_cloudtrail_lake,
    # databases and brokers: Aurora JDBC, psql with an IAM token, Redshift, DMS, ElastiCache CLUSTER NODES,
    # OpenSearch _cat/indices, DocumentDB / Neptune, MSK, Amazon MQ (#45-#53)
    _v9_jdbc_aurora, _v9_psql_iam, _v9_redshift, _v9_dms, _v9_redis_cluster, _v9_opensearch, _v9_docdb_neptune, _v9_msk,
    _v9_amazon_mq,
    # prose: Thai, Arabic, Hebrew, Ukrainian, Greek, Czech, Swedish, Finnish, Hungarian, Romanian (#54-#63)
    _v9_th_chat, _v9_ar_ticket, _v9_he_note, _v9_uk_ticket, _v9_el_chat, _v9_cs_ticket, _v9_sv_chat, _v9_fi_note,
    _v9_hu_ticket, _v9_ro_chat,
    # negatives (#64-#67)
    _v9_neg_gha_log, _v9_neg_managed, _v9_neg_sql, _v9_neg_network,
]


# --- variants-10: a tenth held-out list (session 10), written by a helper that never read the engine, its packs
# or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here. Security tooling
# (Prowler CSV and JSON-OCSF findings, a ScoutSuite results file, Steampipe query tables, Checkov, Trivy and tfsec
# results, a Cloud Custodian policy and its run log, PMapper queries, Parliament output); IaC and deploy tools
# (Terragrunt remote_state, CDK for Terraform, an AWS Copilot manifest and `copilot svc show`, apprunner.yaml,
# .ebextensions, `eb status` and `eb printenv`, SST config, Zappa settings, Chalice config.json, Ansible aws_ec2
# hostvars, a Nomad job); developer tools (LocalStack log, aws-vault config, granted, saml2aws, `aws configure list`,
# `aws configure export-credentials`, awscurl, ~/.aws/cli/cache JSON, zsh history, a tmux capture); data (Redshift
# COPY with CREDENTIALS and UNLOAD with IAM_ROLE / KMS_KEY_ID, STL_LOAD_ERRORS rows, a Flink Kinesis table, DMS task
# settings, Lake Formation permissions); observability (Grafana CloudWatch datasource provisioning, YACE, Splunk
# inputs.conf, Filebeat aws module, a New Relic integration summary); human text (an account-suspension email, an
# abuse report, a support case, a PR review suggestion, a Confluence wiki table); prose in Japanese, Korean,
# Bengali, Malay, Tagalog, Swahili, Persian, Urdu; negatives woven in (AWS-owned platform / Powertools layer ARNs,
# a vendor's published trust account, LocalStack's dummy account, check IDs, instance types, AZs, versions, request
# IDs, enum words) and three negative-only templates; 61 templates. Measured as it came out (report seed 13, 5 per
# template): 74.9 % recall (text and JSON alike), 59.0 % pass, 91.8 % kept, 25 failing templates (20 leak a value
# only, 3 only change a must-keep value: #21, #30, #31; 2 both: #17, #44); seed 7 (1 per template): 74.9 %, 59.0 %
# pass, 56 of 61 must-keep cases kept, the same 25 templates. The misses: bare names and accounts in tool output
# cells and fields (Prowler CSV finding-ID / resource-name / status fields #0, Steampipe table cells #3, a
# Confluence wiki table #49, a tfsec code snippet's name and description #6, Custodian's S3Output bucket:/prefix:
# log #8, PMapper's role/NAME #9, `copilot svc show`'s application #14, `eb status`'s application name and e-
# environment ID #17, SST's Bucket.get() argument and a comment's account #19, a LocalStack queue URL's queue #24,
# the Okta org host in saml2aws #27, a bare account line in a tmux capture #33, a bare KMS key ID after KMS_KEY_ID
# in UNLOAD #35, a queue name in a Splunk stanza header #42, a New Relic metric stream #44, the account after "AWS
# ID:" in an abuse report #46, EKS cluster / node-group names in a support case #47); names and accounts in the
# prose of five of the eight languages (Bengali #52 and Urdu #57 all but the access key, Malay #53, Tagalog #54,
# Swahili #55; Japanese, Korean and Persian pass). Must-keep values changed: the AWS-owned Elastic Beanstalk
# platform ARN #17, the AWS Powertools public layer ARN #21, awscurl's --service values #30, the botocore session
# name in the CLI cache #31, New Relic's published trust-account ARN #44. One label was corrected after a first
# run, with the same numbers: #30's must-keep "execute-api" also sat inside a must-mask API host, now it is kept
# as "--service execute-api" / "--service es".
# Never tuned to. ---------------------------------------------------------------------------------------------


def _v10_ak_pair(g: Gen):
    return g.akid(), g.secret()


# security tooling: Prowler, ScoutSuite, Steampipe, Checkov / tfsec / Trivy, Cloud Custodian, PMapper / Parliament
def _v10_prowler_csv(g: Gen):
    a, r, b, fn = g.account(), g.region(), g.bucket(), g.name("pms")
    ts = _ts(g)
    text = ("ASSESSMENT_START_TIME;FINDING_UNIQUE_ID;PROVIDER;CHECK_ID;SEVERITY;RESOURCE_UID;RESOURCE_NAME;REGION;"
            "ACCOUNT_UID;STATUS;STATUS_EXTENDED\n"
            f"{ts};prowler-aws-s3_bucket_public_access-{a}-{r}-{b};aws;s3_bucket_public_access;critical;"
            f"arn:aws:s3:::{b};{b};{r};{a};FAIL;S3 Bucket {b} has public access due to bucket policy.\n"
            f"{ts};prowler-aws-awslambda_function_url_public-{a}-{r}-{fn};aws;awslambda_function_url_public;high;"
            f"arn:aws:lambda:{r}:{a}:function:{fn};{fn};{r};{a};PASS;Lambda function {fn} has a private URL.\n")
    return text, [a, b, fn], [ts, "s3_bucket_public_access", "awslambda_function_url_public", "critical", r]


def _v10_prowler_ocsf(g: Gen):
    a, r, role = g.account(), g.region(), g.name("pms")
    uid = _uuid(g)
    text = ('{\n  "metadata": {"event_code": "iam_role_administratoraccess_policy", "product": {"name": "Prowler", '
            '"version": "4.2.4"}},\n  "severity": "High",\n  "status_code": "FAIL",\n'
            f'  "status_detail": "IAM Role {role} has AdministratorAccess policy attached.",\n'
            f'  "cloud": {{"account": {{"uid": "{a}", "type": "AWS_Account"}}, "region": "{r}", "provider": "aws"}},\n'
            f'  "resources": [{{"uid": "arn:aws:iam::{a}:role/{role}", "name": "{role}", "type": "AwsIamRole", '
            f'"region": "{r}"}}],\n  "finding_info": {{"uid": "{uid}", "title": "Ensure IAM Roles do not have '
            'AdministratorAccess policy attached"}\n}\n')
    return text, [a, role], ["4.2.4", "AwsIamRole", "AWS_Account", "iam_role_administratoraccess_policy", uid, r]


def _v10_scoutsuite(g: Gen):
    a, r, sg, vpc = g.account(), g.region(), g.hexid("sg"), g.hexid("vpc")
    text = ("scoutsuite_results =\n"
            f'{{"account_id": "{a}", "provider_code": "aws", "last_run": {{"ruleset_name": "default", '
            '"version": "5.14.0"},\n "services": {"ec2": {"regions": {'
            f'"{r}": {{"vpcs": {{"{vpc}": {{"security_groups": {{"{sg}": {{"name": "launch-wizard-3", '
            f'"owner_id": "{a}", "rules": {{"ingress": {{"protocols": {{"TCP": {{"ports": {{"22": '
            '{"cidrs": [{"CIDR": "0.0.0.0/0"}]}}}}}}}}}}}}}}}}}}\n')
    return text, [a, sg, vpc], ["5.14.0", "0.0.0.0/0", r]


def _v10_steampipe(g: Gen):
    a, r = g.account(), g.region()
    i1, i2 = g.iid(), g.iid()
    b1, b2 = g.bucket(), g.bucket()
    text = ("> select instance_id, instance_type, region, account_id from aws_ec2_instance;\n"
            "+---------------------+---------------+-----------+--------------+\n"
            "| instance_id         | instance_type | region    | account_id   |\n"
            "+---------------------+---------------+-----------+--------------+\n"
            f"| {i1} | m6i.large     | {r} | {a} |\n| {i2} | t3.micro      | {r} | {a} |\n"
            "+---------------------+---------------+-----------+--------------+\n\n"
            "> select name, versioning_enabled from aws_s3_bucket;\n+-----------+--------------------+\n"
            f"| {b1} | true |\n| {b2} | false |\n")
    return text, [a, i1, i2, b1, b2], ["m6i.large", "t3.micro", "aws_ec2_instance", "aws_s3_bucket", r]


def _v10_checkov(g: Gen):
    b, t = g.bucket(), g.name("p_m_s")
    text = ("Check: CKV_AWS_18: \"Ensure the S3 bucket has access logging enabled\"\n"
            f"\tFAILED for resource: aws_s3_bucket.{t}\n\tFile: /modules/storage/main.tf:12-19\n"
            "\tGuide: https://docs.prisma-cloud.io/en/enterprise-edition/policy-reference/aws-policies/s3-policies/s3-13-enable-logging\n\n"
            f"\t\t12 | resource \"aws_s3_bucket\" \"{t}\" {{\n\t\t13 |   bucket = \"{b}\"\n"
            "\t\t14 |   acl    = \"private\"\n")
    return text, [b], ["CKV_AWS_18", "/modules/storage/main.tf:12-19", "\"private\""]


def _v10_trivy(g: Gen):
    a, r, tbl, key = g.account(), g.region(), g.name("Camel"), _uuid(g)
    text = (f"arn:aws:dynamodb:{r}:{a}:table/{tbl} (cloud)\n=====================================\n"
            "Tests: 3 (SUCCESSES: 1, FAILURES: 2)\nFailures: 2 (MEDIUM: 1, HIGH: 1)\n\n"
            "AVD-AWS-0024 (MEDIUM): Point-in-time recovery is not enabled.\n"
            "AVD-AWS-0025 (HIGH): Table encryption does not use a customer-managed KMS key.\n"
            f"  kms_key_arn: arn:aws:kms:{r}:{a}:key/{key}\n")
    return text, [a, tbl, key], ["AVD-AWS-0024", "AVD-AWS-0025", "MEDIUM", r]


def _v10_tfsec(g: Gen):
    sg = g.name("ms")
    a = g.account()
    text = (f"Result #1 HIGH Security group rule allows ingress from public internet.\n"
            "────────────────────────────────────────────────────────────────────────────────\n"
            "  network.tf:31\n   via network.tf:27-37 (aws_security_group.web)\n"
            f"   27    resource \"aws_security_group\" \"web\" {{\n   28      name   = \"{sg}\"\n"
            f"   29      description = \"owned by {a}\"\n   31  [     cidr_blocks = [\"0.0.0.0/0\"]\n"
            "          ID aws-ec2-no-public-ingress-sgr\n      Impact Your port exposed to the internet\n")
    return text, [sg, a], ["aws-ec2-no-public-ingress-sgr", "network.tf:31", "0.0.0.0/0"]


def _v10_custodian(g: Gen):
    a, r, topic, role = g.account(), g.region(), g.name("pms"), g.name("pms")
    text = ("policies:\n  - name: ec2-untagged-stop\n    resource: aws.ec2\n    mode:\n      type: periodic\n"
            f"      schedule: \"rate(1 day)\"\n      role: arn:aws:iam::{a}:role/{role}\n"
            "    filters:\n      - \"tag:Owner\": absent\n    actions:\n      - stop\n"
            f"      - type: notify\n        to: [resource-owner]\n        transport:\n          type: sns\n"
            f"          topic: arn:aws:sns:{r}:{a}:{topic}\n")
    return text, [a, role, topic], ["aws.ec2", "rate(1 day)", "periodic"]


def _v10_custodian_run(g: Gen):
    a, r, b = g.account(), g.region(), g.bucket()
    rid = _uuid(g)
    text = (f"2024-05-14 09:12:01,338: custodian.policy:INFO policy:s3-public-block resource:s3 region:{r} "
            f"count:2 time:1.84\n2024-05-14 09:12:03,102: custodian.output:INFO Storing output with "
            f"<S3Output to bucket:{b} prefix:custodian/{a}/{r}>\n"
            f"2024-05-14 09:12:03,551: custodian.actions:INFO Invoking lambda RequestId: {rid}\n")
    return text, [b, a], [rid, "custodian.policy:INFO", r]


def _v10_pmapper(g: Gen):
    a, u, role = g.account(), g.name("ms"), g.name("pms")
    text = (f"$ pmapper --account {a} query 'who can do iam:PassRole with *'\n"
            f"user/{u} IS authorized to call action iam:PassRole for resource *\n"
            f"role/{role} IS authorized to call action iam:PassRole for resource *\n"
            f"$ pmapper analysis --output-type text\n* user/{u} can escalate privileges by creating access keys "
            f"for arn:aws:iam::{a}:user/{u}\n")
    return text, [a, u, role], ["iam:PassRole"]


def _v10_parliament(g: Gen):
    a, b = g.account(), g.bucket()
    text = ("$ parliament --file policy.json\n"
            f"MEDIUM - Unknown action - Unknown action s3:GetObjct - {{'actions': ['s3:GetObjct'], "
            f"'filepath': 'policy.json'}}\nLOW - RESOURCE_STAR - - {{'actions': ['ec2:DescribeInstances']}}\n"
            f"policy.json: \"Resource\": [\"arn:aws:s3:::{b}/*\"], \"Principal\": {{\"AWS\": \"arn:aws:iam::{a}:root\"}}\n")
    return text, [a, b], ["RESOURCE_STAR", "ec2:DescribeInstances", "s3:GetObjct"]


# IaC and deploy tools
def _v10_terragrunt(g: Gen):
    a, r, b, t = g.account(), g.region(), g.bucket(), g.name("p_m_s")
    role = g.name("pms")
    text = ("remote_state {\n  backend = \"s3\"\n  generate = {\n    path      = \"backend.tf\"\n    if_exists = \"overwrite\"\n  }\n"
            f"  config = {{\n    bucket         = \"{b}\"\n    key            = \"${{path_relative_to_include()}}/terraform.tfstate\"\n"
            f"    region         = \"{r}\"\n    encrypt        = true\n    dynamodb_table = \"{t}\"\n"
            f"    role_arn       = \"arn:aws:iam::{a}:role/{role}\"\n  }}\n}}\n")
    return text, [b, t, a, role], [r, "backend.tf", "${path_relative_to_include()}/terraform.tfstate"]


def _v10_cdktf(g: Gen):
    a, r, b, vpc = g.account(), g.region(), g.bucket(), g.hexid("vpc")
    text = ("import { S3Backend, TerraformStack } from \"cdktf\";\n"
            "import { AwsProvider } from \"@cdktf/provider-aws/lib/provider\";\n\n"
            f"new AwsProvider(this, \"aws\", {{ region: \"{r}\", allowedAccountIds: [\"{a}\"] }});\n"
            f"new S3Backend(this, {{ bucket: \"{b}\", key: \"cdktf/app.tfstate\", region: \"{r}\" }});\n"
            f"const vpcId = \"{vpc}\";\n")
    return text, [a, b, vpc], [r, "@cdktf/provider-aws/lib/provider", "cdktf/app.tfstate"]


def _v10_copilot_manifest(g: Gen):
    a, r, p, sec = g.account(), g.region(), g.name("ms"), g.name("ms")
    sfx = g.alnum(6, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    text = ("# The manifest for the \"api\" service.\nname: api\ntype: Load Balanced Web Service\n\n"
            "http:\n  path: '/'\n  healthcheck: '/healthz'\n\nimage:\n  build: Dockerfile\n  port: 8080\n\n"
            "cpu: 512\nmemory: 1024\ncount: 2\nexec: true\n\n"
            f"variables:\n  ASSET_PREFIX: s3://{p}/static\n"
            f"secrets:\n  DB_SECRET:\n    secretsmanager: 'arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{sfx}'\n")
    return text, [p, a, sec], ["Load Balanced Web Service", "8080", "/healthz"]


def _v10_copilot_show(g: Gen):
    r, app = g.region(), g.name("ms")
    lb = f"{app[:12]}-Publi-{g.alnum(12, _UPPER_ALNUM)}-{g.r.randint(100000000, 999999999)}.{r}.elb.amazonaws.com"
    text = (f"About\n\n  Application  {app}\n  Name         api\n  Type         Load Balanced Web Service\n\n"
            "Configurations\n\n  Environment  Tasks     CPU (vCPU)  Memory (MiB)  Platform      Port\n"
            "  -----------  -----     ----------  ------------  --------      ----\n"
            "  test         1         0.25        512           LINUX/X86_64  8080\n\n"
            f"Routes\n\n  Environment  URL\n  test         http://{lb}\n\n"
            f"Service Discovery\n\n  test         api.test.{app}.local:8080\n")
    return text, [app, lb], ["LINUX/X86_64", "Load Balanced Web Service", "8080"]


def _v10_apprunner_yaml(g: Gen):
    a, r, p = g.account(), g.region(), g.name("ms")
    text = ("version: 1.0\nruntime: python3\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\n"
            "run:\n  runtime-version: 3.8.16\n  command: python app.py\n  network:\n    port: 8000\n"
            "  env:\n    - name: LOG_LEVEL\n      value: info\n  secrets:\n    - name: API_TOKEN\n"
            f"      value-from: \"arn:aws:ssm:{r}:{a}:parameter/{p}/api-token\"\n")
    return text, [a, p], ["3.8.16", "python3", r, "8000"]


def _v10_ebextensions(g: Gen):
    r, b = g.region(), g.bucket()
    sg = g.hexid("sg")
    text = ("option_settings:\n  aws:autoscaling:launchconfiguration:\n    InstanceType: t3.small\n"
            f"    SecurityGroups: {sg}\n    IamInstanceProfile: aws-elasticbeanstalk-ec2-role\n"
            "  aws:elasticbeanstalk:application:environment:\n"
            f"    UPLOAD_BUCKET: {b}\n    AWS_REGION: {r}\n"
            "files:\n  \"/etc/nginx/conf.d/proxy.conf\":\n    mode: \"000644\"\n")
    return text, [sg, b], ["t3.small", "aws-elasticbeanstalk-ec2-role", "aws:autoscaling:launchconfiguration", r]


def _v10_eb_status(g: Gen):
    r, env = g.region(), g.name("msn")
    eid = "e-" + g.alnum(10, "abcdefghijklmnopqrstuvwxyz0123456789")
    cname = f"{env}.{g.alnum(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}.{r}.elasticbeanstalk.com"
    text = (f"Environment details for: {env}\n  Application name: {env.rsplit('-', 1)[0]}\n  Region: {r}\n"
            "  Deployed Version: app-240514_101530\n"
            f"  Environment ID: {eid}\n  Platform: arn:aws:elasticbeanstalk:{r}::platform/Python 3.11 running on "
            "64bit Amazon Linux 2023/4.0.11\n  Tier: WebServer-Standard-1.0\n"
            f"  CNAME: {cname}\n  Updated: 2024-05-14 10:16:02.114000+00:00\n  Status: Ready\n  Health: Green\n")
    return text, [env, env.rsplit('-', 1)[0], eid, cname], ["app-240514_101530", "WebServer-Standard-1.0", "Green",
                                     f"arn:aws:elasticbeanstalk:{r}::platform/Python 3.11 running on 64bit Amazon Linux 2023/4.0.11"]


def _v10_eb_printenv(g: Gen):
    ak, sk = _v10_ak_pair(g)
    host = f"{g.name('ms')}.{_rds_hash(g)}.{g.region()}.rds.amazonaws.com"
    pw = g.alnum(20, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    text = (" Environment Variables:\n     AWS_ACCESS_KEY_ID = " + ak + f"\n     AWS_SECRET_ACCESS_KEY = {sk}\n"
            f"     RDS_HOSTNAME = {host}\n     RDS_PORT = 5432\n     RDS_PASSWORD = {pw}\n     NODE_ENV = production\n")
    return text, [ak, sk, host, pw], ["5432", "production"]


def _v10_sst(g: Gen):
    a, r, b, dom = g.account(), g.region(), g.bucket(), g.name("ms")
    zone = _zone_id(g)
    text = ("/// <reference path=\"./.sst/platform/config.d.ts\" />\nexport default $config({\n"
            "  app(input) {\n    return {\n      name: \"web\",\n      home: \"aws\",\n"
            f"      providers: {{ aws: {{ region: \"{r}\", profile: \"prod\" }} }},\n    }};\n  }},\n"
            "  async run() {\n"
            f"    const bucket = sst.aws.Bucket.get(\"Uploads\", \"{b}\");\n"
            f"    new sst.aws.Nextjs(\"Site\", {{ domain: {{ name: \"{dom}.example.com\", dns: sst.aws.dns({{ zone: \"{zone}\" }}) }} }});\n"
            f"    // deployed to {a}\n  }},\n}});\n")
    return text, [b, zone, a], [r, "sst.aws.Nextjs"]


def _v10_zappa(g: Gen):
    a, r, b, role = g.account(), g.region(), g.bucket(), g.name("pms")
    sn1, sg = g.hexid("subnet"), g.hexid("sg")
    text = ('{\n  "production": {\n    "app_function": "app.app",\n    "aws_region": "' + r + '",\n'
            f'    "profile_name": "default",\n    "project_name": "api",\n    "runtime": "python3.12",\n'
            f'    "s3_bucket": "{b}",\n    "role_arn": "arn:aws:iam::{a}:role/{role}",\n'
            f'    "vpc_config": {{"SubnetIds": ["{sn1}"], "SecurityGroupIds": ["{sg}"]}},\n'
            '    "memory_size": 512\n  }\n}\n')
    return text, [b, a, role, sn1, sg], ["python3.12", "app.app", r]


def _v10_chalice(g: Gen):
    a, r, role, layer = g.account(), g.region(), g.name("pms"), g.name("ms")
    text = ('{\n  "version": "2.0",\n  "app_name": "orders",\n  "stages": {\n    "prod": {\n'
            '      "api_gateway_stage": "api",\n      "manage_iam_role": false,\n'
            f'      "iam_role_arn": "arn:aws:iam::{a}:role/{role}",\n'
            f'      "layers": ["arn:aws:lambda:{r}:{a}:layer:{layer}:7", '
            f'"arn:aws:lambda:{r}:017000801446:layer:AWSLambdaPowertoolsPythonV2:68"],\n'
            '      "lambda_memory_size": 256\n    }\n  }\n}\n')
    return text, [a, role, layer], [f"arn:aws:lambda:{r}:017000801446:layer:AWSLambdaPowertoolsPythonV2:68", "2.0"]


def _v10_ansible_hostvars(g: Gen):
    a, r, i, sn, vpc = g.account(), g.region(), g.iid(), g.hexid("subnet"), g.hexid("vpc")
    ip = _ip10(g)
    ami = g.hexid("ami")
    text = ('$ ansible-inventory -i aws_ec2.yml --host ' + f"ip-{ip.replace('.', '-')}.{r}.compute.internal\n"
            f'{{\n    "ami_launch_index": 0,\n    "architecture": "x86_64",\n    "image_id": "{ami}",\n'
            f'    "instance_id": "{i}",\n    "instance_type": "c6i.xlarge",\n    "owner_id": "{a}",\n'
            f'    "placement": {{"availability_zone": "{r}a", "tenancy": "default"}},\n'
            f'    "private_ip_address": "{ip}",\n    "subnet_id": "{sn}",\n    "vpc_id": "{vpc}"\n}}\n')
    return text, [i, a, sn, vpc, ami], ["c6i.xlarge", "x86_64", f"{r}a"]


def _v10_nomad(g: Gen):
    a, r, repo, sec = g.account(), g.region(), g.name("ms"), g.name("ms")
    text = ('job "worker" {\n  datacenters = ["dc1"]\n  group "w" {\n    task "app" {\n      driver = "docker"\n'
            f'      config {{\n        image = "{a}.dkr.ecr.{r}.amazonaws.com/{repo}:1.4.2"\n      }}\n'
            '      template {\n        data = <<EOH\n'
            f'QUEUE_URL="https://sqs.{r}.amazonaws.com/{a}/{sec}"\nEOH\n        destination = "secrets/env"\n        env = true\n'
            '      }\n      resources {\n        cpu    = 500\n        memory = 256\n      }\n    }\n  }\n}\n')
    return text, [a, repo, sec], ["dc1", "docker", "secrets/env", "1.4.2"]


# developer tools
def _v10_localstack(g: Gen):
    b, q = g.bucket(), g.name("ms")
    text = ("LocalStack version: 3.4.0\nLocalStack build date: 2024-04-25\nReady.\n"
            f"2024-05-14T09:30:11.204  INFO --- [   asgi_gw_0] localstack.request.aws     : AWS s3.CreateBucket => 200\n"
            f"2024-05-14T09:30:11.988  INFO --- [   asgi_gw_1] localstack.request.aws     : AWS sqs.CreateQueue => 200\n"
            f"queue url: http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/{q}\n"
            f"bucket: s3://{b}\n")
    return text, [b, q], ["3.4.0", "000000000000", "4566", "localstack.request.aws"]


def _v10_aws_vault(g: Gen):
    a, role, mfa_user = g.account(), g.name("pms"), g.name("ms")
    a2 = g.account()
    text = ("[profile jump]\nregion = eu-west-1\n"
            f"mfa_serial = arn:aws:iam::{a}:mfa/{mfa_user}\n\n[profile prod-admin]\nsource_profile = jump\n"
            f"role_arn = arn:aws:iam::{a2}:role/{role}\nmfa_serial = arn:aws:iam::{a}:mfa/{mfa_user}\n\n"
            "$ aws-vault exec prod-admin -- aws sts get-caller-identity\nEnter MFA code for arn:aws:iam::"
            f"{a}:mfa/{mfa_user}: \n")
    return text, [a, a2, role, mfa_user], ["eu-west-1", "aws-vault exec prod-admin"]


def _v10_granted(g: Gen):
    a, r, start = g.account(), g.region(), "d-" + g.alnum(10, "0123456789abcdef")
    text = ("$ assume prod/AdministratorAccess\n"
            f"[i] Granted: launching browser for https://{start}.awsapps.com/start\n"
            f"[✔] [prod](region {r}) session credentials will expire in 1 hour\n"
            f"# ~/.granted/config\nDefaultBrowser = \"FIREFOX\"\nCommonFateDefaultSSOStartURL = \"https://{start}.awsapps.com/start\"\n"
            f"# ~/.aws/config\n[profile prod]\ngranted_sso_start_url = https://{start}.awsapps.com/start\n"
            f"granted_sso_account_id = {a}\ngranted_sso_role_name = AdministratorAccess\ncredential_process = granted credential-process --profile prod\n")
    return text, [start, a], ["AdministratorAccess", r, "1 hour"]


def _v10_saml2aws(g: Gen):
    a, role, idp = g.account(), g.name("pms"), g.name("ms")
    ak, sk = _asia(g), g.secret()
    text = ("$ saml2aws login --skip-prompt\nUsing IdP Account default to access Okta "
            f"https://{idp}.okta.com/home/amazon_aws/0oa1b2c3d4e5f6g7h8/272\n"
            f"Selected role: arn:aws:iam::{a}:role/{role}\nRequesting AWS credentials using SAML assertion.\n"
            "Logged in as: arn:aws:sts::" + a + f":assumed-role/{role}/j.doe@example.com\n\n"
            f"# ~/.aws/credentials\n[saml]\naws_access_key_id        = {ak}\naws_secret_access_key    = {sk}\n"
            "x_security_token_expires = 2024-05-14T12:30:00Z\n")
    return text, [a, role, idp, ak, sk], ["2024-05-14T12:30:00Z"]


def _v10_configure_list(g: Gen):
    ak = g.akid()
    text = ("$ aws configure list\n      Name                    Value             Type    Location\n"
            "      ----                    -----             ----    --------\n"
            "   profile                <not set>             None    None\n"
            f"access_key     ****************{ak[-4:]} shared-credentials-file\n"
            f"secret_key     ****************{g.alnum(4, _B64[:62])} shared-credentials-file\n"
            "    region                eu-central-1      config-file    ~/.aws/config\n")
    return text, [], ["eu-central-1", "shared-credentials-file", "<not set>"]


def _v10_export_creds(g: Gen):
    ak, sk, tok = _asia(g), g.secret(), _session_token(g)
    text = ("$ aws configure export-credentials --profile dev --format env\n"
            f"export AWS_ACCESS_KEY_ID={ak}\nexport AWS_SECRET_ACCESS_KEY={sk}\nexport AWS_SESSION_TOKEN={tok}\n"
            "export AWS_CREDENTIAL_EXPIRATION=2024-05-14T13:05:11+00:00\n")
    return text, [ak, sk, tok], ["2024-05-14T13:05:11+00:00"]


def _v10_awscurl(g: Gen):
    r, api = g.region(), g.alnum(10, "abcdefghijklmnopqrstuvwxyz0123456789")
    ak, sk = _v10_ak_pair(g)
    dom = f"search-{g.name('ms')}-{g.alnum(26)}.{r}.es.amazonaws.com"
    text = (f"awscurl --service execute-api --region {r} --access_key {ak} --secret_key {sk} \\\n"
            f"  -X POST https://{api}.execute-api.{r}.amazonaws.com/prod/orders -d '{{\"sku\": \"A-1\"}}'\n"
            f"# and the OpenSearch one\nawscurl --service es https://{dom}/_cluster/health\n")
    return text, [ak, sk, api, dom], ["--service execute-api", "--service es", r, "_cluster/health"]


def _v10_cli_cache(g: Gen):
    a, role = g.account(), g.name("pms")
    ak, sk, tok = _asia(g), g.secret(), _session_token(g)
    aroa = _aroa(g)
    text = ('{"Credentials": {"AccessKeyId": "' + ak + f'", "SecretAccessKey": "{sk}", "SessionToken": "{tok}", '
            '"Expiration": "2024-05-14T11:02:44+00:00"}, "AssumedRoleUser": {"AssumedRoleId": '
            f'"{aroa}:botocore-session-1715680964", "Arn": "arn:aws:sts::{a}:assumed-role/{role}/botocore-session-1715680964"}}, '
            '"ResponseMetadata": {"HTTPStatusCode": 200}}\n')
    return text, [ak, sk, tok, aroa, a, role], ["2024-05-14T11:02:44+00:00", "botocore-session-1715680964"]


def _v10_history(g: Gen):
    a, r, b, fn, cl = g.account(), g.region(), g.bucket(), g.name("pms"), g.name("ms")
    text = (f": 1715680011:0;aws s3 sync ./dist s3://{b}/ --delete\n"
            f": 1715680102:0;aws lambda invoke --function-name {fn} --payload '{{}}' out.json\n"
            f": 1715680230:0;aws eks update-kubeconfig --name {cl} --region {r} --role-arn arn:aws:iam::{a}:role/eks-admin\n"
            "  512  aws sts get-caller-identity --query Account --output text\n")
    return text, [b, fn, cl, a], [r, "1715680230", "out.json"]


def _v10_tmux(g: Gen):
    a, r, i = g.account(), g.region(), g.iid()
    ip = _ip10(g)
    text = ("[0] 0:bash- 1:ssm*                                         \"ip-10-0-1-5\" 14:02 14-May-24\n"
            f"$ aws ssm start-session --target {i} --region {r}\n\nStarting session with SessionId: "
            f"j.nakamura-{g.alnum(17, '0123456789abcdef')}\nsh-5.2$ curl -s http://169.254.169.254/latest/meta-data/local-ipv4\n"
            f"{ip}sh-5.2$ aws sts get-caller-identity --query Account --output text\n{a}\n")
    return text, [i, a], [r, "http://169.254.169.254/latest/meta-data/local-ipv4", "sh-5.2$"]


# data
def _v10_redshift_copy_creds(g: Gen):
    b, ak, sk = g.bucket(), g.akid(), g.secret()
    text = (f"COPY sales.events\nFROM 's3://{b}/events/2024/05/'\n"
            f"CREDENTIALS 'aws_access_key_id={ak};aws_secret_access_key={sk}'\n"
            "FORMAT AS PARQUET;\n")
    return text, [b, ak, sk], ["FORMAT AS PARQUET", "sales.events"]


def _v10_redshift_unload(g: Gen):
    a, b, role, key = g.account(), g.bucket(), g.name("pms"), _uuid(g)
    r = g.region()
    text = (f"UNLOAD ('SELECT * FROM venue WHERE venuestate = ''NV''')\nTO 's3://{b}/unload/venue_'\n"
            f"IAM_ROLE 'arn:aws:iam::{a}:role/{role}'\nKMS_KEY_ID '{key}' ENCRYPTED\nPARALLEL OFF\nREGION '{r}';\n")
    return text, [b, a, role, key], ["PARALLEL OFF", r]


def _v10_stl_load_errors(g: Gen):
    b = g.bucket()
    text = ("select query, trim(filename) as filename, line_number, colname, err_reason from stl_load_errors order by starttime desc limit 2;\n"
            " query  |                   filename                    | line_number | colname  |          err_reason\n"
            "--------+-----------------------------------------------+-------------+----------+------------------------------\n"
            f" 482913 | s3://{b}/in/part-0000.csv.gz                  |        1044 | order_ts | Invalid timestamp format or value [YYYY-MM-DD HH24:MI:SS]\n"
            f" 482913 | s3://{b}/in/part-0001.csv.gz                  |          17 | amount   | Overflow for NUMERIC(12,2)\n")
    return text, [b], ["482913", "order_ts", "NUMERIC(12,2)", "stl_load_errors"]


def _v10_flink(g: Gen):
    a, r, stream, b = g.account(), g.region(), g.name("ms"), g.bucket()
    text = ("CREATE TABLE orders (\n  order_id STRING,\n  ts TIMESTAMP(3)\n) WITH (\n  'connector' = 'kinesis',\n"
            f"  'stream.arn' = 'arn:aws:kinesis:{r}:{a}:stream/{stream}',\n  'aws.region' = '{r}',\n"
            "  'source.init.position' = 'LATEST',\n  'format' = 'json'\n);\n"
            f"-- checkpoints: s3://{b}/flink/checkpoints\n")
    return text, [a, stream, b], ["LATEST", "'kinesis'", r]


def _v10_dms_settings(g: Gen):
    a, r, b, ep = g.account(), g.region(), g.bucket(), g.alnum(26, _UPPER_ALNUM)
    text = ('{\n  "TargetMetadata": {"TargetSchema": "", "SupportLobs": true, "LobMaxSize": 32},\n'
            '  "FullLoadSettings": {"TargetTablePrepMode": "DROP_AND_CREATE", "MaxFullLoadSubTasks": 8},\n'
            '  "Logging": {"EnableLogging": true},\n'
            f'  "ControlTablesSettings": {{"ControlSchema": "awsdms_control"}}\n}}\n'
            f'ReplicationTaskArn: arn:aws:dms:{r}:{a}:task:{ep}\nS3 target: BucketName={b}\n')
    return text, [a, ep, b], ["DROP_AND_CREATE", "awsdms_control", r]


def _v10_lakeformation(g: Gen):
    a, db, tbl, role = g.account(), g.name("p_m_s"), g.name("p_m_s"), g.name("pms")
    text = ('$ aws lakeformation list-permissions --resource-type TABLE\n{\n  "PrincipalResourcePermissions": [{\n'
            f'    "Principal": {{"DataLakePrincipalIdentifier": "arn:aws:iam::{a}:role/{role}"}},\n'
            f'    "Resource": {{"Table": {{"CatalogId": "{a}", "DatabaseName": "{db}", "Name": "{tbl}"}}}},\n'
            '    "Permissions": ["SELECT", "DESCRIBE"],\n    "PermissionsWithGrantOption": []\n  }]\n}\n')
    return text, [a, role, db, tbl], ["SELECT", "DESCRIBE", "TABLE"]


# observability configs
def _v10_grafana_ds(g: Gen):
    a, role, ext = g.account(), g.name("pms"), g.alnum(24, "abcdefghijklmnopqrstuvwxyz0123456789")
    ak, sk = _v10_ak_pair(g)
    text = ("apiVersion: 1\ndatasources:\n  - name: CloudWatch\n    type: cloudwatch\n    jsonData:\n"
            "      authType: keys\n      defaultRegion: eu-west-2\n"
            f"      assumeRoleArn: arn:aws:iam::{a}:role/{role}\n      externalId: {ext}\n"
            f"    secureJsonData:\n      accessKey: {ak}\n      secretKey: {sk}\n")
    return text, [a, role, ext, ak, sk], ["eu-west-2", "cloudwatch", "keys"]


def _v10_yace(g: Gen):
    a, role = g.account(), g.name("pms")
    text = ("apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/SQS\n      regions: [us-east-1]\n"
            f"      roles:\n        - roleArn: arn:aws:iam::{a}:role/{role}\n"
            "      metrics:\n        - name: ApproximateNumberOfMessagesVisible\n          statistics: [Maximum]\n"
            "          period: 300\n          length: 600\n")
    return text, [a, role], ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "us-east-1", "v1alpha1"]


def _v10_splunk_inputs(g: Gen):
    a, r, q = g.account(), g.region(), g.name("ms")
    text = (f"[aws_sqs_based_s3://cloudtrail_{q}]\naws_account = prod-reader\n"
            f"aws_iam_role = arn:aws:iam::{a}:role/splunk-ingest\nsqs_queue_region = {r}\n"
            f"sqs_queue_url = https://sqs.{r}.amazonaws.com/{a}/{q}\ns3_file_decoder = CloudTrail\n"
            "sourcetype = aws:cloudtrail\ninterval = 300\nindex = aws\n")
    return text, [a, q], ["aws:cloudtrail", "CloudTrail", r]


def _v10_filebeat(g: Gen):
    a, r, q, b = g.account(), g.region(), g.name("ms"), g.bucket()
    ak, sk = _v10_ak_pair(g)
    text = ("filebeat.modules:\n  - module: aws\n    cloudtrail:\n      enabled: true\n"
            f"      var.queue_url: https://sqs.{r}.amazonaws.com/{a}/{q}\n"
            f"      var.access_key_id: {ak}\n      var.secret_access_key: {sk}\n"
            f"    s3access:\n      enabled: true\n      var.bucket_arn: arn:aws:s3:::{b}\n"
            "      var.number_of_workers: 5\n")
    return text, [a, q, ak, sk, b], ["module: aws", "var.number_of_workers: 5"]


def _v10_newrelic(g: Gen):
    a, ext = g.account(), str(g.r.randint(1000000, 9999999))
    role = "NewRelicInfrastructure-Integrations"
    stream = g.name("pms")
    text = (f"New Relic AWS integration\n  Linked account: {a} (prod)\n  Role ARN: arn:aws:iam::{a}:role/{role}\n"
            f"  External ID (your New Relic account ID): {ext}\n  Metric stream: {stream} (OpenTelemetry 0.7)\n"
            "  Trust: arn:aws:iam::754728514883:root\n")
    # New Relic's published trust account is neither: a vendor's public account, harmless either way
    # (relabelled when the set was merged: not AWS-owned, so no policy of the engine keeps it).
    return text, [a, stream], ["OpenTelemetry 0.7"]


# human text
def _v10_suspension_email(g: Gen):
    a = g.account()
    case = str(g.r.randint(10000000000, 19999999999))
    text = ("Subject: Your AWS account " + a + " has been suspended\n\nHello,\n\n"
            f"We have suspended your AWS account {a} because of unpaid charges. To restore access, sign in to the "
            "Billing and Cost Management console and pay the outstanding balance of USD 1,284.52.\n\n"
            f"Reference: case {case}\nSincerely,\nAmazon Web Services\n")
    return text, [a], ["USD 1,284.52", case, "Billing and Cost Management"]


def _v10_abuse_report(g: Gen):
    a, r, i = g.account(), g.region(), g.iid()
    ip = f"{g.r.randint(3, 54)}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}"
    text = ("Hello,\n\nWe've received a report(s) that your AWS resource(s)\n\n"
            f"AWS ID: {a}    Region: {r}    EC2 Instance Id: {i}\n[{ip}]\n\n"
            "has been implicated in activity which resembles scanning remote hosts on the internet for security "
            "vulnerabilities. Abuse case number: 5120974011-1\n")
    return text, [a, i], [r, "5120974011-1"]


def _v10_support_case(g: Gen):
    a, cl, ng = g.account(), g.name("ms"), g.name("msn")
    text = (f"Case ID 171568{g.r.randint(1000, 9999)}1 - EKS nodes NotReady\nAccount: {a}\nSeverity: Production system impaired\n\n"
            f"Hi team, since 09:10 UTC our managed node group {ng} in cluster {cl} has nodes stuck in NotReady. "
            "kubelet logs show 'PLEG is not healthy'. We're on 1.29 with AL2023 AMIs.\n")
    return text, [a, cl, ng], ["Production system impaired", "NotReady", "1.29", "AL2023"]


def _v10_pr_suggestion(g: Gen):
    a, r, t = g.account(), g.region(), g.name("Camel")
    text = ("**reviewer** commented on `infra/app.ts` line 42:\n\nThis should read the table name from config rather "
            "than hard-coding it:\n\n```suggestion\n"
            f"const table = dynamodb.Table.fromTableArn(this, 'Orders', `arn:aws:dynamodb:{r}:{a}:table/{t}`);\n```\n"
            "Also please pin `aws-cdk-lib` to 2.141.0.\n")
    return text, [a, t], ["2.141.0", "aws-cdk-lib", r]


def _v10_confluence(g: Gen):
    rows = [(g.name("msn"), g.account(), g.bucket()) for _ in range(3)]
    text = "|| Environment || Account ID || Log bucket || Owner ||\n"
    for env, a, b in rows:
        text += f"| {env} | {a} | {b} | @{g.person()} |\n"
    return text, [x for row in rows for x in row], ["|| Environment || Account ID || Log bucket || Owner ||"]


# prose: Japanese, Korean, Bengali, Malay, Tagalog, Swahili, Persian, Urdu
def _v10_ja(g: Gen):
    a, b, fn = g.account(), g.bucket(), g.name("pms")
    text = (f"昨日の障害の件です。本番アカウント {a} の Lambda 関数 {fn} が S3 バケット {b} への書き込みで "
            "AccessDenied を返していました。ap-northeast-1 のみで発生しています。")
    return text, [a, b, fn], ["ap-northeast-1", "AccessDenied"]


def _v10_ko(g: Gen):
    a, q, i = g.account(), g.name("ms"), g.iid()
    text = (f"운영 계정 {a}에서 SQS 큐 {q}에 메시지가 쌓이고 있습니다. 워커 인스턴스 {i}는 t3.medium이고 "
            "ap-northeast-2a에 있습니다. 확인 부탁드립니다.")
    return text, [a, q, i], ["t3.medium", "ap-northeast-2a"]


def _v10_bn(g: Gen):
    a, b = g.account(), g.bucket()
    ak = g.akid()
    text = (f"আমাদের AWS অ্যাকাউন্ট {a}-এর S3 বাকেট {b} ভুল করে পাবলিক হয়ে গিয়েছিল। অ্যাক্সেস কী {ak} "
            "ইতিমধ্যে নিষ্ক্রিয় করা হয়েছে।")
    return text, [a, b, ak], []


def _v10_ms(g: Gen):
    a, cl, db = g.account(), g.name("ms"), g.name("msn")
    r = g.region()
    text = (f"Kluster EKS {cl} dalam akaun {a} tidak dapat menyambung ke pangkalan data RDS {db} di rantau {r}. "
            "Sila semak kumpulan keselamatan.")
    return text, [a, cl, db], [r]


def _v10_tl(g: Gen):
    a, t, role = g.account(), g.name("Camel"), g.name("pms")
    text = (f"Pakitingnan po yung DynamoDB table na {t} sa account {a}, nag-throttle siya kagabi. "
            f"Yung role na {role} lang ang may access.")
    return text, [a, t, role], ["DynamoDB"]


def _v10_sw(g: Gen):
    a, b, fn = g.account(), g.bucket(), g.name("pms")
    text = (f"Habari timu, kazi ya Lambda {fn} kwenye akaunti {a} inashindwa kusoma faili kutoka kwenye ndoo ya S3 "
            f"{b}. Kosa ni AccessDenied.")
    return text, [a, b, fn], ["AccessDenied"]


def _v10_fa(g: Gen):
    a, i, sg = g.account(), g.iid(), g.hexid("sg")
    text = f"سلام، ماشین {i} در حساب {a} به گروه امنیتی {sg} متصل است و پورت 22 باز است. لطفاً بررسی کنید."
    return text, [a, i, sg], ["22"]


def _v10_ur(g: Gen):
    a, q, ak = g.account(), g.name("ms"), g.akid()
    text = f"ہمارے اکاؤنٹ {a} میں SQS قطار {q} بھر گئی ہے۔ پرانی رسائی کلید {ak} کو غیر فعال کر دیں۔"
    return text, [a, q, ak], []


# negatives
def _v10_neg_prowler_summary(g: Gen):
    text = ("Prowler 4.2.4\nOverview Results:\n╭────────────────────┬────────────────────╮\n"
            "│ 38.71% (1204) Failed │ 61.29% (1906) Passed │\n╰────────────────────┴────────────────────╯\n"
            "Provider  Service  Status  Critical  High  Medium  Low\n"
            "aws       iam      FAIL    2         14    9       3\n"
            "Compliance: cis_2.0_aws, aws_foundational_security_best_practices_aws\n")
    return text, [], ["4.2.4", "38.71% (1204)", "cis_2.0_aws", "aws_foundational_security_best_practices_aws"]


def _v10_neg_cli_help(g: Gen):
    r = g.region()
    text = ("$ aws --version\naws-cli/2.15.45 Python/3.11.8 Linux/6.5.0-1018-aws exe/x86_64.ubuntu.22\n"
            f"$ aws configure get region\n{r}\n"
            "$ aws ec2 describe-instance-types --instance-types m7g.large --query 'InstanceTypes[].VCpuInfo'\n"
            "[{\"DefaultVCpus\": 2, \"DefaultCores\": 2, \"DefaultThreadsPerCore\": 1}]\n"
            f"endpoint: https://ec2.{r}.amazonaws.com\n")
    return text, [], ["aws-cli/2.15.45", "Python/3.11.8", "m7g.large", f"https://ec2.{r}.amazonaws.com", r]


def _v10_neg_ja_prose(g: Gen):
    rid = _uuid(g)
    text = (f"AWS のドキュメントによると、us-west-2 の t4g.small は無料利用枠の対象です。リクエスト ID {rid} は "
            "サポートに伝えてください。バージョンは boto3 1.34.100 です。")
    return text, [], [rid, "us-west-2", "t4g.small", "1.34.100"]


VARIANTS_10: list[Template] = [
    # security tooling: Prowler CSV and OCSF, ScoutSuite, Steampipe, Checkov, Trivy, tfsec, Cloud Custodian policy
    # and run log, PMapper, Parliament (#0-#10)
    _v10_prowler_csv, _v10_prowler_ocsf, _v10_scoutsuite, _v10_steampipe, _v10_checkov, _v10_trivy, _v10_tfsec,
    _v10_custodian, _v10_custodian_run, _v10_pmapper, _v10_parliament,
    # IaC and deploy tools: Terragrunt, CDK for Terraform, Copilot manifest and svc show, apprunner.yaml,
    # .ebextensions, eb status and printenv, SST, Zappa, Chalice, Ansible aws_ec2 hostvars, Nomad (#11-#23)
    _v10_terragrunt, _v10_cdktf, _v10_copilot_manifest, _v10_copilot_show, _v10_apprunner_yaml, _v10_ebextensions,
    _v10_eb_status, _v10_eb_printenv, _v10_sst, _v10_zappa, _v10_chalice, _v10_ansible_hostvars, _v10_nomad,
    # developer tools: LocalStack, aws-vault, granted, saml2aws, configure list, export-credentials, awscurl, CLI
    # cache, zsh history, tmux capture (#24-#33)
    _v10_localstack, _v10_aws_vault, _v10_granted, _v10_saml2aws, _v10_configure_list, _v10_export_creds,
    _v10_awscurl, _v10_cli_cache, _v10_history, _v10_tmux,
    # data: Redshift COPY with CREDENTIALS, UNLOAD, STL_LOAD_ERRORS, Flink Kinesis table, DMS task settings, Lake
    # Formation permissions (#34-#39)
    _v10_redshift_copy_creds, _v10_redshift_unload, _v10_stl_load_errors, _v10_flink, _v10_dms_settings,
    _v10_lakeformation,
    # observability: Grafana CloudWatch datasource, YACE, Splunk inputs.conf, Filebeat aws module, New Relic (#40-#44)
    _v10_grafana_ds, _v10_yace, _v10_splunk_inputs, _v10_filebeat, _v10_newrelic,
    # human text: suspension email, abuse report, support case, PR suggestion, Confluence table (#45-#49)
    _v10_suspension_email, _v10_abuse_report, _v10_support_case, _v10_pr_suggestion, _v10_confluence,
    # prose: Japanese, Korean, Bengali, Malay, Tagalog, Swahili, Persian, Urdu (#50-#57)
    _v10_ja, _v10_ko, _v10_bn, _v10_ms, _v10_tl, _v10_sw, _v10_fa, _v10_ur,
    # negatives (#58-#60)
    _v10_neg_prowler_summary, _v10_neg_cli_help, _v10_neg_ja_prose,
]


# --- variants-11: an eleventh held-out list (session 11), written by a helper that never read the engine, its packs
# or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here. AWS Tools for
# PowerShell (Format-Table / Format-List of EC2, S3, IAM, Lambda and CloudFormation cmdlets, splatting, $env:
# credentials, Use-STSRole); aws CLI --output yaml and yaml-stream (ec2, rds, lambda get-function with its presigned
# code URL, iam get-role with an IRSA trust, ecs describe-services, s3api); Pulumi (TypeScript and Python programs,
# stack output, preview --diff, import, Pulumi.<stack>.yaml); Serverless Framework (serverless.yml, v2 Service
# Information, a v3 failure); CDK (diff IAM / resource tables, synth JSON, cdk.context.json, bootstrap with a custom
# qualifier, manifest with missing context); Terraform (state list / show, import commands and blocks, plan with
# module addresses, tfstate v4, Atlantis, Terraform Cloud, console); cfn-lint, rain, describe-stack-events table;
# Kubernetes on AWS (Helm values with IRSA, external-dns, external-secrets, cluster-autoscaler, aws-node ipamd,
# kubectl get ingress / svc / events, EBS CSI PV, IRSA env); SDK code in Ruby, PHP, C#, Kotlin, Swift, Elixir;
# documents (Jupyter, RST grid and simple tables, AsciiDoc, Org, Mermaid, PlantUML, draw.io); three negative-only
# templates; 65 templates. Measured as it came out (report seed 13, 5 per template): 75.6 % recall as text, 75.3 % as
# JSON (75.4 % both), 35.4 % pass, 89.2 % kept, 42 failing templates (35 leak a value only, 4 only change a must-keep
# value: #8, #17, #34, #64; 3 both: #4, #13, #28); seed 7 (1 per template): 75.6 % / 75.3 % (75.5 % both), 35.4 %
# pass, 58 of 65 must-keep cases kept, the same 42 templates. The misses: bare names and IDs in cells and fields of
# tool output (PowerShell security-group names in braces #0, Lambda environment values #3, a CloudFormation output
# value #4; YAML tag values #7 #10, list-buckets' Name and the canonical owner ID #12; Pulumi stack output and diff
# values #15 #16; sls Service Information and its upload line #20 #21; the cdk diff stack header and tree values #22
# #23; cdk.context.json filter and parameter keys #25; the bootstrap trust account, qualifier and toolkit stack #26;
# terraform for_each keys, import IDs, an instance profile in tfstate, an attachment ID #28 #29 #31 #33; cfn-lint's
# quoted value #35; rain's stack names #36; a PhysicalResourceId in a CLI table #37); names passed to SDK and program
# calls (Pulumi Table.get / Role.get and keyword arguments #13 #14, ExAws positional arguments #53, a bare KMS key UUID
# in a PowerShell splat #5); names beside ARN-like context (a secret ARN ending "-*" #19, the secret after "on
# resource:" #47, an external-secrets dataFrom key #40, the function in a Lambda code-location URL #9, the cluster in
# an autoscaler tag #41); documents (notebook outputs #54, RST grid and simple tables #55 #56, AsciiDoc #57, Org #58,
# Mermaid #59, PlantUML #60, draw.io labels #61). Must-keep values changed: a SAM changeset name inside its ARN #4,
# the RDS CA identifier #8, Pulumi's aws.iam.ManagedPolicy constant #13, the AWS-owned S3 hosted zone ID #17 #28, a
# private CIDR in a terraform console expression #34 (the IP policy masks private addresses, as variants-8 noted), the
# AWS-owned EKS add-on registry account #64.
# Never tuned to. ---------------------------------------------------------------------------------------------


def _v11_ps_table(headers: list[str], rows: list[list[str]]) -> str:
    """Format-Table -AutoSize: columns as wide as their widest cell, one space apart, dashes under each header."""
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return " ".join(c.ljust(w[i]) for i, c in enumerate(cells)).rstrip()
    return "\n".join([line(headers), line(["-" * len(h) for h in headers])] + [line(r) for r in rows])


def _v11_ps_list(pairs: list[tuple[str, str]]) -> str:
    """Format-List: names padded to the longest, then ' : ' and the value."""
    w = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(w)} : {v}".rstrip() for k, v in pairs)


def _v11_cols(rows: list[list[str]], gap: int = 3) -> str:
    """kubectl / pulumi style columns: each as wide as its widest cell, ``gap`` spaces between."""
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join((" " * gap).join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows)


def _v11_box(rows: list[list[str]]) -> str:
    """The CDK diff table: box-drawing borders, one space of padding, a rule between rows."""
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def rule(a: str, b: str, c: str) -> str:
        return a + b.join("─" * (x + 2) for x in w) + c

    def line(r: list[str]) -> str:
        return "│" + "│".join(f" {c.ljust(w[i])} " for i, c in enumerate(r)) + "│"
    out = [rule("┌", "┬", "┐"), line(rows[0])]
    for r in rows[1:]:
        out += [rule("├", "┼", "┤"), line(r)]
    out.append(rule("└", "┴", "┘"))
    return "\n".join(out)


def _v11_zone(g: Gen) -> str:
    return "Z0" + g.alnum(19, _UPPER_ALNUM)


def _v11_alb(g: Gen, ns: str, name: str) -> str:
    """The first DNS label of an ALB the AWS Load Balancer Controller made: k8s-<ns>-<name>-<hash>-<digits>."""
    return f"k8s-{ns[:8]}-{name[:8]}-{g.alnum(10, _HEX)}-{g.r.randint(1000000000, 1999999999)}"


# AWS Tools for PowerShell
def _v11_ps_ec2_table(g: Gen):
    vpc = g.hexid("vpc")
    rows, mask = [], [vpc]
    for plat, typ in (("Windows", "m5.xlarge"), ("", "t3.medium"), ("", "c6i.large")):
        i, sn, sgn = g.iid(), g.hexid("subnet"), g.name("ms")
        rows.append([i, typ, plat, _ip10(g), "", "{" + sgn + "}", sn, vpc])
        mask += [i, sn, sgn]
    text = ("PS C:\\> Get-EC2Instance -Filter @{Name='vpc-id';Values='" + vpc + "'} | Select-Object -ExpandProperty Instances"
            " | Format-Table -AutoSize\n\n"
            + _v11_ps_table(["InstanceId", "InstanceType", "Platform", "PrivateIpAddress", "PublicIpAddress",
                             "SecurityGroups", "SubnetId", "VpcId"], rows) + "\n")
    return text, mask, ["m5.xlarge", "c6i.large", "Windows", "Select-Object -ExpandProperty Instances"]


def _v11_ps_s3(g: Gen):
    b, r = g.bucket(), g.pick(["eu-west-1", "ap-southeast-2", "eu-central-1", "us-west-2"])
    etag = g.alnum(32, _HEX)
    text = (f"PS C:\\> Get-S3Bucket -BucketName {b}\n\n"
            + _v11_ps_table(["CreationDate", "BucketName"], [["3/14/2022 10:02:11 AM", b]]) + "\n\n\n"
            f"PS C:\\> Get-S3BucketLocation -BucketName {b}\n\n" + _v11_ps_table(["Value"], [[r]]) + "\n\n\n"
            f"PS C:\\> Get-S3Object -BucketName {b} -Key exports/2024/06/orders.csv\n\n"
            + _v11_ps_list([("ETag", f'"{etag}"'), ("BucketName", b), ("Key", "exports/2024/06/orders.csv"),
                            ("LastModified", "6/1/2024 9:14:27 AM"), ("Owner", ""), ("Size", "184320"),
                            ("StorageClass", "STANDARD")]) + "\n")
    return text, [b], [r, etag, "STANDARD", "exports/2024/06/orders.csv", "6/1/2024 9:14:27 AM"]


def _v11_ps_iam_roles(g: Gen):
    a, m = g.account(), g.pick(_MIDDLE)
    r1, r2, pol = f"{g.pick(_PREFIX)}-{m}-{g.pick(_SUFFIX)}", f"{g.pick(_PREFIX)}-{m}-lambda", f"{g.pick(_PREFIX)}-{m}-policy"
    t1 = _v11_ps_table(["RoleName", "Arn", "CreateDate"],
                       [[r1, f"arn:aws:iam::{a}:role/{r1}", "2/20/2024 1:12:45 PM"],
                        [r2, f"arn:aws:iam::{a}:role/service-role/{r2}", "11/3/2023 8:02:19 AM"]])
    t2 = _v11_ps_table(["PolicyArn", "PolicyName"],
                       [["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "AmazonS3ReadOnlyAccess"],
                        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "AWSLambdaBasicExecutionRole"],
                        [f"arn:aws:iam::{a}:policy/{pol}", pol]])
    text = (f"PS> Get-IAMRoleList | Where-Object RoleName -like '*{m}*' | Format-Table RoleName, Arn, CreateDate -AutoSize\n\n"
            f"{t1}\n\nPS> Get-IAMAttachedRolePolicyList -RoleName {r1}\n\n{t2}\n")
    return text, [a, r1, r2, pol], ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole",
                                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]


def _v11_ps_lambda_config(g: Gen):
    a, r, fn, role, t, q, b = g.account(), g.region(), _fn(g), g.name("pms"), g.name(), g.name("pms"), g.bucket()
    sg, s1, s2, vpc = g.hexid("sg"), g.hexid("subnet"), g.hexid("subnet"), g.hexid("vpc")
    sha = g.alnum(43, _B64) + "="
    fl = _v11_ps_list([("Architectures", "{x86_64}"), ("CodeSha256", sha), ("CodeSize", "4183219"),
                       ("DeadLetterConfig", "Amazon.Lambda.Model.DeadLetterConfig"), ("Description", ""),
                       ("Environment", "Amazon.Lambda.Model.EnvironmentResponse"),
                       ("EphemeralStorage", "Amazon.Lambda.Model.EphemeralStorage"),
                       ("FunctionArn", f"arn:aws:lambda:{r}:{a}:function:{fn}"), ("FunctionName", fn),
                       ("Handler", "app.handler"), ("KMSKeyArn", ""), ("LastModified", "2024-06-01T09:14:27.441+0000"),
                       ("MemorySize", "512"), ("PackageType", "Zip"), ("Role", f"arn:aws:iam::{a}:role/{role}"),
                       ("Runtime", "python3.12"), ("Timeout", "30"), ("Version", "$LATEST"),
                       ("VpcConfig", "Amazon.Lambda.Model.VpcConfigResponse")])
    env = _v11_ps_table(["Key", "Value"], [["TABLE_NAME", t], ["QUEUE_URL", _queue_url(r, a, q)], ["UPLOAD_BUCKET", b],
                                           ["POWERTOOLS_SERVICE_NAME", "orders"]])
    vpcl = _v11_ps_list([("Ipv6AllowedForDualStack", "False"), ("SecurityGroupIds", "{" + sg + "}"),
                         ("SubnetIds", "{" + s1 + ", " + s2 + "}"), ("VpcId", vpc)])
    text = (f"PS> Get-LMFunctionConfiguration -FunctionName {fn} -Region {r}\n\n{fl}\n\n"
            f"PS> (Get-LMFunctionConfiguration -FunctionName {fn}).Environment.Variables\n\n{env}\n\n"
            f"PS> (Get-LMFunctionConfiguration -FunctionName {fn}).VpcConfig | Format-List\n\n{vpcl}\n")
    return text, [a, fn, role, t, q, b, sg, s1, s2, vpc], [
        "Amazon.Lambda.Model.EnvironmentResponse", "python3.12", "$LATEST", "POWERTOOLS_SERVICE_NAME", sha]


def _v11_ps_cfn_stack(g: Gen):
    a, r, st, topic, cfr, api, t, q = (g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("pms"), _api_id(g),
                                       g.name(), g.name("pms"))
    fl = _v11_ps_list([("Capabilities", "{CAPABILITY_IAM, CAPABILITY_AUTO_EXPAND}"),
                       ("ChangeSetId", f"arn:aws:cloudformation:{r}:{a}:changeSet/samcli-deploy1717233267/{_uuid(g)}"),
                       ("CreationTime", "3/14/2024 10:02:11 AM"), ("DeletionTime", "1/1/0001 12:00:00 AM"),
                       ("Description", "Orders service (SAM)"), ("DetailedStatus", ""), ("DisableRollback", "False"),
                       ("DriftInformation", "Amazon.CloudFormation.Model.StackDriftInformation"),
                       ("EnableTerminationProtection", "True"), ("LastUpdatedTime", "6/1/2024 9:14:27 AM"),
                       ("NotificationARNs", "{arn:aws:sns:" + r + ":" + a + ":" + topic + "}"),
                       ("Outputs", "{ApiUrl, TableName, QueueArn}"), ("Parameters", "{Stage}"), ("ParentId", ""),
                       ("RoleARN", f"arn:aws:iam::{a}:role/{cfr}"),
                       ("RollbackConfiguration", "Amazon.CloudFormation.Model.RollbackConfiguration"), ("RootId", ""),
                       ("StackId", f"arn:aws:cloudformation:{r}:{a}:stack/{st}/{_uuid(g)}"), ("StackName", st),
                       ("StackStatus", "UPDATE_COMPLETE"), ("StackStatusReason", ""), ("Tags", "{}"),
                       ("TimeoutInMinutes", "0")])
    out = _v11_ps_table(["OutputKey", "OutputValue"],
                        [["ApiUrl", f"https://{api}.execute-api.{r}.amazonaws.com/Prod/"], ["TableName", t],
                         ["QueueArn", f"arn:aws:sqs:{r}:{a}:{q}"]])
    text = (f"PS C:\\> Get-CFNStack -StackName {st}\n\n{fl}\n\n"
            f"PS C:\\> (Get-CFNStack -StackName {st}).Outputs | Format-Table OutputKey, OutputValue -AutoSize\n\n{out}\n")
    return text, [a, st, topic, cfr, api, t, q], ["UPDATE_COMPLETE", "CAPABILITY_AUTO_EXPAND", "samcli-deploy1717233267",
                                                  "Amazon.CloudFormation.Model.StackDriftInformation"]


def _v11_ps_splat(g: Gen):
    a, r, b, kms, q, t = g.account(), g.region(), g.bucket(), _uuid(g), g.name("pms"), g.name()
    text = ("Import-Module AWS.Tools.S3, AWS.Tools.SQS, AWS.Tools.DynamoDBv2\n"
            f"Set-DefaultAWSRegion -Region {r}\n\n"
            "$params = @{\n"
            f"    BucketName           = '{b}'\n"
            "    Key                  = \"exports/$(Get-Date -Format yyyy-MM-dd)/orders.csv\"\n"
            "    File                 = 'C:\\exports\\orders.csv'\n"
            "    ServerSideEncryption = 'aws:kms'\n"
            f"    ServerSideEncryptionKeyManagementServiceKeyId = '{kms}'\n"
            "}\nWrite-S3Object @params\n\n"
            f"$queueUrl = Get-SQSQueueUrl -QueueName '{q}' -QueueOwnerAWSAccountId '{a}'\n"
            f"Send-SQSMessage -QueueUrl $queueUrl -MessageBody (@{{ bucket = '{b}'; key = $params.Key }} | ConvertTo-Json -Compress)\n\n"
            f"$ddb = @{{ TableName = '{t}'; Key = @{{ pk = [Amazon.DynamoDBv2.Model.AttributeValue]@{{ S = 'order#42' }} }} }}\n"
            "Get-DDBItem @ddb\n")
    return text, [a, b, kms, q, t], ["'aws:kms'", f"Set-DefaultAWSRegion -Region {r}", "AWS.Tools.DynamoDBv2",
                                     "[Amazon.DynamoDBv2.Model.AttributeValue]"]


def _v11_ps_env_creds(g: Gen):
    ak, sk, r, a, role, asia, sk2, tok = (g.akid(), g.secret(), g.region(), g.account(), g.name("pms"), _asia(g),
                                          g.secret(), _session_token(g))
    who = g.person()
    ar = _v11_ps_list([("AssumedRoleUser", "Amazon.SecurityToken.Model.AssumedRoleUser"),
                       ("Credentials", "Amazon.SecurityToken.Model.Credentials"), ("PackedPolicySize", "0"),
                       ("SourceIdentity", "")])
    cr = _v11_ps_list([("AccessKeyId", asia), ("Expiration", "6/1/2024 10:14:27 AM"), ("SecretAccessKey", sk2),
                       ("SessionToken", tok)])
    text = ("# $PROFILE (Microsoft.PowerShell_profile.ps1)\n"
            f"$env:AWS_ACCESS_KEY_ID     = '{ak}'\n$env:AWS_SECRET_ACCESS_KEY = '{sk}'\n$env:AWS_DEFAULT_REGION    = '{r}'\n\n"
            f"PS> $resp = Use-STSRole -RoleArn arn:aws:iam::{a}:role/{role} -RoleSessionName {who}\nPS> $resp\n\n{ar}\n\n"
            f"PS> $resp.Credentials | Format-List\n\n{cr}\n")
    return text, [ak, sk, a, role, asia, sk2, tok], ["Amazon.SecurityToken.Model.AssumedRoleUser", "$env:AWS_DEFAULT_REGION",
                                                     "Microsoft.PowerShell_profile.ps1"]


# aws CLI --output yaml / yaml-stream
def _v11_yaml_ec2(g: Gen):
    a, r = g.account(), g.region()
    az = r + g.pick("abc")
    i, vol, prof, aipa, ami, key, sg, sgn, eni, att, sn, vpc, rid = (
        g.iid(), g.hexid("vol"), g.name("pms"), "AIPA" + g.alnum(17, _B32), g.hexid("ami"), g.name("ms"), g.hexid("sg"),
        g.name("ms"), g.hexid("eni"), g.hexid("eni-attach"), g.hexid("subnet"), g.hexid("vpc"), g.hexid("r"))
    tagname, stack = g.name("pmsn"), g.name("pms")
    host = _node_host(g, r)
    ip = host.split(".")[0][3:].replace("-", ".")
    mac = ":".join(g.alnum(2, _HEX) for _ in range(6))
    text = (f"$ aws ec2 describe-instances --instance-ids {i} --output yaml\nReservations:\n- Groups: []\n  Instances:\n"
            "  - AmiLaunchIndex: 0\n    Architecture: x86_64\n    BlockDeviceMappings:\n    - DeviceName: /dev/xvda\n"
            "      Ebs:\n        AttachTime: '2024-05-28T14:02:12+00:00'\n        DeleteOnTermination: true\n"
            f"        Status: attached\n        VolumeId: {vol}\n"
            "    ClientToken: terraform-20240528140209817600000001\n    EbsOptimized: true\n    EnaSupport: true\n"
            f"    Hypervisor: xen\n    IamInstanceProfile:\n      Arn: arn:aws:iam::{a}:instance-profile/{prof}\n"
            f"      Id: {aipa}\n    ImageId: {ami}\n    InstanceId: {i}\n    InstanceType: m6i.large\n"
            f"    KeyName: {key}\n    LaunchTime: '2024-05-28T14:02:11+00:00'\n    Monitoring:\n      State: disabled\n"
            "    NetworkInterfaces:\n    - Attachment:\n        AttachTime: '2024-05-28T14:02:11+00:00'\n"
            f"        AttachmentId: {att}\n        DeleteOnTermination: true\n        DeviceIndex: 0\n"
            f"        Status: attached\n      Groups:\n      - GroupId: {sg}\n        GroupName: {sgn}\n"
            f"      InterfaceType: interface\n      MacAddress: {mac}\n      NetworkInterfaceId: {eni}\n"
            f"      OwnerId: '{a}'\n      PrivateDnsName: {host}\n      PrivateIpAddress: {ip}\n"
            f"      SourceDestCheck: true\n      Status: in-use\n      SubnetId: {sn}\n      VpcId: {vpc}\n"
            f"    Placement:\n      AvailabilityZone: {az}\n      GroupName: ''\n      Tenancy: default\n"
            f"    PrivateDnsName: {host}\n    PrivateIpAddress: {ip}\n    State:\n      Code: 16\n      Name: running\n"
            f"    SubnetId: {sn}\n    Tags:\n    - Key: Name\n      Value: {tagname}\n"
            f"    - Key: aws:cloudformation:stack-name\n      Value: {stack}\n    VirtualizationType: hvm\n    VpcId: {vpc}\n"
            f"  OwnerId: '{a}'\n  ReservationId: {rid}\n")
    return text, [a, i, vol, prof, aipa, ami, key, sg, sgn, eni, att, sn, vpc, rid, tagname, stack], [
        "InstanceType: m6i.large", f"AvailabilityZone: {az}", "aws:cloudformation:stack-name", "Tenancy: default",
        "terraform-20240528140209817600000001"]


def _v11_yaml_rds(g: Gen):
    a, r = g.account(), g.region()
    az = r + g.pick("abc")
    db, pg, sng, s1, s2, vpc, h, kms, sg = (g.name("pms"), g.name("ms") + "-pg16", g.name("pms"), g.hexid("subnet"),
                                            g.hexid("subnet"), g.hexid("vpc"), g.alnum(12, _LOWER_ALNUM), _uuid(g), g.hexid("sg"))
    dbi = "db-" + g.alnum(26, _B32)
    text = (f"$ aws rds describe-db-instances --db-instance-identifier {db} --output yaml\nDBInstances:\n"
            "- ActivityStreamStatus: stopped\n  AllocatedStorage: 100\n  AutoMinorVersionUpgrade: true\n"
            f"  AvailabilityZone: {az}\n  BackupRetentionPeriod: 7\n  CACertificateIdentifier: rds-ca-rsa2048-g1\n"
            f"  DBInstanceArn: arn:aws:rds:{r}:{a}:db:{db}\n  DBInstanceClass: db.r6g.large\n"
            f"  DBInstanceIdentifier: {db}\n  DBInstanceStatus: available\n  DBParameterGroups:\n"
            f"  - DBParameterGroupName: {pg}\n    ParameterApplyStatus: in-sync\n  DBSubnetGroup:\n"
            f"    DBSubnetGroupDescription: Managed by Terraform\n    DBSubnetGroupName: {sng}\n"
            "    SubnetGroupStatus: Complete\n    Subnets:\n    - SubnetAvailabilityZone:\n"
            f"        Name: {r}a\n      SubnetIdentifier: {s1}\n      SubnetOutpost: {{}}\n      SubnetStatus: Active\n"
            f"    - SubnetAvailabilityZone:\n        Name: {r}b\n      SubnetIdentifier: {s2}\n      SubnetOutpost: {{}}\n"
            f"      SubnetStatus: Active\n    VpcId: {vpc}\n  DbInstancePort: 0\n  DbiResourceId: {dbi}\n"
            f"  Endpoint:\n    Address: {db}.{h}.{r}.rds.amazonaws.com\n    Port: 5432\n  Engine: postgres\n"
            f"  EngineVersion: '16.3'\n  KmsKeyId: arn:aws:kms:{r}:{a}:key/{kms}\n  MasterUsername: postgres\n"
            "  MultiAZ: false\n  StorageEncrypted: true\n  StorageType: gp3\n  VpcSecurityGroups:\n"
            f"  - Status: active\n    VpcSecurityGroupId: {sg}\n")
    return text, [a, db, pg, sng, s1, s2, vpc, dbi, h, kms, sg], [
        "CACertificateIdentifier: rds-ca-rsa2048-g1", "DBInstanceClass: db.r6g.large", "EngineVersion: '16.3'",
        "StorageType: gp3", f"AvailabilityZone: {az}"]


def _v11_yaml_stream_lambda(g: Gen):
    a, r, fn, asia, tok, sname, role, stack = (g.account(), g.region(), _fn(g), _asia(g), _session_token(g),
                                               "prod/" + g.name("ms"), g.name("pms"), g.name("pms"))
    loc = (f"https://awslambda-{r}-tasks.s3.{r}.amazonaws.com/snapshots/{a}/{fn}-{_uuid(g)}?versionId="
           f"{g.alnum(32, _MIXED_ALNUM)}&X-Amz-Security-Token={quote(tok, safe='')}&X-Amz-Algorithm=AWS4-HMAC-SHA256"
           "&X-Amz-Date=20240601T091427Z&X-Amz-SignedHeaders=host&X-Amz-Expires=600"
           f"&X-Amz-Credential={asia}%2F20240601%2F{r}%2Fs3%2Faws4_request&X-Amz-Signature={g.alnum(64, _HEX)}")
    rev = _uuid(g)
    text = (f"$ aws lambda get-function --function-name {fn} --output yaml-stream\n- Code:\n    Location: {loc}\n"
            "    RepositoryType: S3\n  Configuration:\n    Architectures:\n    - arm64\n"
            f"    CodeSha256: {g.alnum(43, _B64)}=\n    CodeSize: 5242880\n    Description: ''\n    Environment:\n"
            f"      Variables:\n        LOG_LEVEL: info\n        SECRET_ARN: arn:aws:secretsmanager:{r}:{a}:secret:{sname}-{g.alnum(6, _MIXED_ALNUM)}\n"
            f"    EphemeralStorage:\n      Size: 512\n    FunctionArn: arn:aws:lambda:{r}:{a}:function:{fn}\n"
            f"    FunctionName: {fn}\n    Handler: index.handler\n    LastModified: 2024-06-01T09:14:27.441+0000\n"
            f"    LastUpdateStatus: Successful\n    LoggingConfig:\n      LogFormat: Text\n      LogGroup: /aws/lambda/{fn}\n"
            f"    MemorySize: 1024\n    PackageType: Zip\n    RevisionId: {rev}\n    Role: arn:aws:iam::{a}:role/{role}\n"
            "    Runtime: nodejs20.x\n    RuntimeVersionConfig:\n      RuntimeVersionArn: arn:aws:lambda:"
            f"{r}::runtime:{g.alnum(64, _HEX)}\n    SnapStart:\n      ApplyOn: None\n      OptimizationStatus: 'Off'\n"
            "    State: Active\n    Timeout: 15\n    TracingConfig:\n      Mode: PassThrough\n    Version: $LATEST\n"
            f"  Tags:\n    aws:cloudformation:stack-name: {stack}\n")
    return text, [a, fn, asia, tok, sname, role, stack], ["RepositoryType: S3", "Runtime: nodejs20.x", "Mode: PassThrough",
                                                          "X-Amz-Algorithm=AWS4-HMAC-SHA256", rev]


def _v11_yaml_iam_role(g: Gen):
    a, r, role, ro, cl = g.account(), g.region(), g.name("pms"), _aroa(g), g.name("pms")
    oidc = g.alnum(32, _UPPER_HEX)
    ns, sa = g.pick(_MIDDLE), g.pick(_MIDDLE) + "-sa"
    issuer = f"oidc.eks.{r}.amazonaws.com/id/{oidc}"
    text = (f"$ aws iam get-role --role-name {role} --output yaml\nRole:\n  Arn: arn:aws:iam::{a}:role/{role}\n"
            "  AssumeRolePolicyDocument:\n    Statement:\n    - Action: sts:AssumeRoleWithWebIdentity\n      Condition:\n"
            f"        StringEquals:\n          {issuer}:aud: sts.amazonaws.com\n"
            f"          {issuer}:sub: system:serviceaccount:{ns}:{sa}\n      Effect: Allow\n      Principal:\n"
            f"        Federated: arn:aws:iam::{a}:oidc-provider/{issuer}\n    Version: '2012-10-17'\n"
            "  CreateDate: '2024-02-20T13:12:45+00:00'\n  Description: IRSA role for the workload\n"
            f"  MaxSessionDuration: 3600\n  Path: /\n  RoleId: {ro}\n  RoleLastUsed:\n"
            f"    LastUsedDate: '2024-06-01T09:14:27+00:00'\n    Region: {r}\n  RoleName: {role}\n  Tags:\n"
            f"  - Key: alpha.eksctl.io/cluster-name\n    Value: {cl}\n")
    return text, [a, role, ro, oidc, cl], ["sts:AssumeRoleWithWebIdentity", "sts.amazonaws.com", "Version: '2012-10-17'",
                                           "alpha.eksctl.io/cluster-name", "MaxSessionDuration: 3600"]


def _v11_yaml_stream_ecs(g: Gen):
    a, r, cl, dr, sg, s1, s2, fam, svc, tg = (g.account(), g.region(), g.name("pms"), g.name("pms"), g.hexid("sg"),
                                              g.hexid("subnet"), g.hexid("subnet"), g.name("ms"), g.name("ms"), g.name("ms"))
    tga = f"arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{g.alnum(16, _HEX)}"
    dep = "ecs-svc/" + "".join(str(g.r.randint(0, 9)) for _ in range(19))
    text = (f"$ aws ecs describe-services --cluster {cl} --services {svc} --output yaml-stream\n- failures: []\n  services:\n"
            f"  - clusterArn: arn:aws:ecs:{r}:{a}:cluster/{cl}\n    createdAt: '2024-03-14T10:02:11.441000+00:00'\n"
            f"    createdBy: arn:aws:iam::{a}:role/{dr}\n    deploymentConfiguration:\n      deploymentCircuitBreaker:\n"
            "        enable: true\n        rollback: true\n      maximumPercent: 200\n      minimumHealthyPercent: 100\n"
            "    deploymentController:\n      type: ECS\n    deployments:\n"
            "    - createdAt: '2024-06-01T09:10:02.118000+00:00'\n      desiredCount: 3\n      failedTasks: 0\n"
            f"      id: {dep}\n      launchType: FARGATE\n      networkConfiguration:\n        awsvpcConfiguration:\n"
            f"          assignPublicIp: DISABLED\n          securityGroups:\n          - {sg}\n          subnets:\n"
            f"          - {s1}\n          - {s2}\n      platformFamily: Linux\n      platformVersion: 1.4.0\n"
            f"      rolloutState: COMPLETED\n      rolloutStateReason: ECS deployment {dep} completed.\n      runningCount: 3\n"
            f"      status: PRIMARY\n      taskDefinition: arn:aws:ecs:{r}:{a}:task-definition/{fam}:42\n"
            "    desiredCount: 3\n    enableECSManagedTags: true\n    events:\n"
            f"    - createdAt: '2024-06-01T09:14:27.441000+00:00'\n      id: {_uuid(g)}\n"
            f"      message: (service {svc}) has reached a steady state.\n"
            f"    - createdAt: '2024-06-01T09:12:40.002000+00:00'\n      id: {_uuid(g)}\n"
            f"      message: (service {svc}) registered 1 targets in (target-group {tga})\n"
            "    launchType: FARGATE\n    loadBalancers:\n    - containerName: app\n      containerPort: 8080\n"
            f"      targetGroupArn: {tga}\n    pendingCount: 0\n    platformVersion: LATEST\n"
            f"    roleArn: arn:aws:iam::{a}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS\n"
            f"    runningCount: 3\n    schedulingStrategy: REPLICA\n    serviceArn: arn:aws:ecs:{r}:{a}:service/{cl}/{svc}\n"
            f"    serviceName: {svc}\n    status: ACTIVE\n    taskDefinition: arn:aws:ecs:{r}:{a}:task-definition/{fam}:42\n")
    return text, [a, cl, dr, sg, s1, s2, fam, svc, tg], ["AWSServiceRoleForECS", "assignPublicIp: DISABLED",
                                                         "platformVersion: 1.4.0", "schedulingStrategy: REPLICA", "FARGATE"]


def _v11_yaml_s3api(g: Gen):
    a, r, b1, b2, alias = g.account(), g.region(), g.bucket(), g.bucket(), g.name("ms")
    can = g.alnum(64, _HEX)
    text = ("$ aws s3api list-buckets --output yaml\nBuckets:\n"
            f"- CreationDate: '2022-03-14T10:02:11+00:00'\n  Name: {b1}\n"
            f"- CreationDate: '2023-11-02T16:45:09+00:00'\n  Name: {b2}\nOwner:\n  ID: {can}\n\n"
            f"$ aws s3api get-bucket-encryption --bucket {b1} --output yaml\nServerSideEncryptionConfiguration:\n"
            f"  Rules:\n  - ApplyServerSideEncryptionByDefault:\n      KMSMasterKeyID: arn:aws:kms:{r}:{a}:alias/{alias}\n"
            "      SSEAlgorithm: aws:kms\n    BucketKeyEnabled: true\n")
    return text, [a, b1, b2, can, alias], ["SSEAlgorithm: aws:kms", "BucketKeyEnabled: true", "'2022-03-14T10:02:11+00:00'"]


# Pulumi
def _v11_pulumi_ts(g: Gen):
    a, r, b, role, t, alias, fn, q = (g.account(), g.region(), g.bucket(), g.name("pms"), g.name(), g.name("ms"), _fn(g),
                                      g.name("pms"))
    s1, s2, sg = g.hexid("subnet"), g.hexid("subnet"), g.hexid("sg")
    text = ('import * as aws from "@pulumi/aws";\nimport * as pulumi from "@pulumi/pulumi";\n\n'
            'const uploads = new aws.s3.BucketV2("uploads", {\n'
            f'    bucket: "{b}",\n    forceDestroy: false,\n    tags: {{ Environment: "prod" }},\n}});\n\n'
            'const handlerRole = new aws.iam.Role("handler-role", {\n'
            f'    name: "{role}",\n'
            '    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),\n});\n\n'
            'new aws.iam.RolePolicyAttachment("handler-basic", {\n    role: handlerRole.name,\n'
            '    policyArn: aws.iam.ManagedPolicy.AWSLambdaBasicExecutionRole,\n});\n\n'
            f'const orders = aws.dynamodb.Table.get("orders", "{t}");\n'
            f'const key = aws.kms.getKeyOutput({{ keyId: "alias/{alias}" }});\n\n'
            'export const handler = new aws.lambda.Function("handler", {\n'
            f'    name: "{fn}",\n    role: handlerRole.arn,\n    runtime: aws.lambda.Runtime.NodeJS20dX,\n'
            '    handler: "index.handler",\n    code: new pulumi.asset.FileArchive("./dist"),\n    kmsKeyArn: key.arn,\n'
            '    environment: {\n        variables: {\n            TABLE_NAME: orders.name,\n'
            f'            BUCKET: uploads.bucket,\n            DLQ_ARN: "arn:aws:sqs:{r}:{a}:{q}",\n        }},\n    }},\n'
            f'    vpcConfig: {{ subnetIds: ["{s1}", "{s2}"], securityGroupIds: ["{sg}"] }},\n}});\n\n'
            "export const bucketName = uploads.bucket;\n")
    return text, [a, b, role, t, alias, fn, q, s1, s2, sg], [
        "lambda.amazonaws.com", "aws.iam.ManagedPolicy.AWSLambdaBasicExecutionRole", "aws.lambda.Runtime.NodeJS20dX",
        '"@pulumi/aws"', 'aws.s3.BucketV2("uploads"']


def _v11_pulumi_py(g: Gen):
    a, r, b, t, q, kms, role, dr = (g.account(), g.region(), g.bucket(), g.name(), g.name("pms"), _uuid(g), g.name("pms"),
                                    g.name("pms"))
    text = ("import pulumi\nimport pulumi_aws as aws\n\n"
            f'prod = aws.Provider("prod", region="{r}", allowed_account_ids=["{a}"],\n'
            f'                    assume_role=aws.ProviderAssumeRoleArgs(role_arn="arn:aws:iam::{a}:role/{dr}",\n'
            '                                                           session_name="pulumi"))\n'
            "opts = pulumi.ResourceOptions(provider=prod)\n\n"
            f'logs = aws.s3.BucketV2("access-logs", bucket="{b}", opts=opts)\n'
            'aws.s3.BucketVersioningV2("access-logs-versioning", bucket=logs.id,\n'
            '    versioning_configuration=aws.s3.BucketVersioningV2VersioningConfigurationArgs(status="Enabled"), opts=opts)\n\n'
            "orders = aws.dynamodb.Table(\n"
            '    "orders",\n'
            f'    name="{t}",\n'
            '    billing_mode="PAY_PER_REQUEST",\n    hash_key="pk",\n    range_key="sk",\n    attributes=[\n'
            '        aws.dynamodb.TableAttributeArgs(name="pk", type="S"),\n'
            '        aws.dynamodb.TableAttributeArgs(name="sk", type="S"),\n    ],\n'
            '    stream_enabled=True,\n    stream_view_type="NEW_AND_OLD_IMAGES",\n    opts=opts,\n)\n\n'
            f'dlq = aws.sqs.Queue("orders-dlq", name="{q}", kms_master_key_id="{kms}",\n'
            "                     message_retention_seconds=1209600, opts=opts)\n"
            f'task_role = aws.iam.Role.get("task-role", "{role}", opts=opts)\n\n'
            'pulumi.export("table_stream_arn", orders.stream_arn)\npulumi.export("dlq_url", dlq.url)\n')
    return text, [a, b, t, q, kms, role, dr], ['billing_mode="PAY_PER_REQUEST"', '"NEW_AND_OLD_IMAGES"', 'status="Enabled"',
                                               "import pulumi_aws as aws", f'region="{r}"']


def _v11_pulumi_stack_output_table(g: Gen):
    r = g.region()
    api, b, cl, db, h, vpc = (_api_id(g), f"{g.bucket()}-{g.alnum(7, _HEX)}", f"{g.name('ms')}-eksCluster-{g.alnum(7, _HEX)}",
                              g.name("pms"), g.alnum(12, _LOWER_ALNUM), g.hexid("vpc"))
    rows = [["OUTPUT", "VALUE"], ["apiUrl", f"https://{api}.execute-api.{r}.amazonaws.com/prod"], ["bucketName", b],
            ["clusterName", cl], ["dbEndpoint", f"{db}.{h}.{r}.rds.amazonaws.com:5432"], ["kubeconfig", "[secret]"],
            ["vpcId", vpc]]
    table = "\n".join("    " + line for line in _v11_cols(rows, 4).split("\n"))
    text = f"$ pulumi stack output\nCurrent stack outputs (6):\n{table}\n"
    return text, [api, b, cl, db, h, vpc], ["[secret]", "Current stack outputs (6):"]


def _v11_pulumi_preview_diff(g: Gen):
    sga, sgn, vpc, db = g.hexid("sg"), g.name("pms"), g.hexid("vpc"), g.name("pms")
    proj = g.pick(["infra", "platform", "core-infra"])
    upd, prov = _uuid(g), _uuid(g)
    text = (f"$ pulumi preview --diff\nPreviewing update (prod)\n\n"
            f"View in Browser (Ctrl+O): https://app.pulumi.com/{g.pick(_PREFIX)}/{proj}/prod/previews/{upd}\n\n"
            f"  pulumi:pulumi:Stack: (same)\n    [urn=urn:pulumi:prod::{proj}::pulumi:pulumi:Stack::{proj}-prod]\n"
            "    + aws:ec2/securityGroup:SecurityGroup: (create)\n"
            f"        [urn=urn:pulumi:prod::{proj}::aws:ec2/securityGroup:SecurityGroup::db-access]\n"
            f"        [provider=urn:pulumi:prod::{proj}::pulumi:providers:aws::default_6_38_0::{prov}]\n"
            '        description        : "Managed by Pulumi"\n        egress             : [\n            [0]: {\n'
            '                cidrBlocks: [\n                    [0]: "0.0.0.0/0"\n                ]\n'
            '                fromPort  : 0\n                protocol  : "-1"\n                toPort    : 0\n            }\n'
            "        ]\n        ingress            : [\n            [0]: {\n                fromPort      : 5432\n"
            '                protocol      : "tcp"\n                securityGroups: [\n'
            f'                    [0]: "{sga}"\n                ]\n                toPort        : 5432\n            }}\n'
            f'        ]\n        name               : "{sgn}"\n        revokeRulesOnDelete: false\n'
            f'        vpcId              : "{vpc}"\n'
            f"    ~ aws:rds/instance:Instance: (update)\n        [id={db}]\n"
            f"        [urn=urn:pulumi:prod::{proj}::aws:rds/instance:Instance::orders-db]\n"
            f"        [provider=urn:pulumi:prod::{proj}::pulumi:providers:aws::default_6_38_0::{prov}]\n"
            "      ~ vpcSecurityGroupIds: [\n          + [1]: output<string>\n        ]\n"
            "Resources:\n    + 1 to create\n    ~ 1 to update\n    2 changes. 31 unchanged\n")
    return text, [sga, sgn, vpc, db], ['"0.0.0.0/0"', "aws:ec2/securityGroup:SecurityGroup", "2 changes. 31 unchanged",
                                       "default_6_38_0", upd]


def _v11_pulumi_import(g: Gen):
    b = g.bucket()
    text = (f"$ pulumi import aws:s3/bucketV2:BucketV2 legacy-uploads {b} --yes\nImporting (prod)\n\n"
            "     Type                 Name               Status\n     pulumi:pulumi:Stack  infra-prod\n"
            " =   └─ aws:s3:BucketV2   legacy-uploads     imported (2s)\n\n"
            "Resources:\n    = 1 imported\n    31 unchanged\n\nDuration: 5s\n\n"
            "Please copy the following code into your Pulumi application. Not doing so\n"
            "will cause Pulumi to report that an update will happen on the next update command.\n\n"
            "Please note that the imported resources are marked as protected. To destroy them\n"
            "you will need to remove the `protect` option and run `pulumi update` *before*\n"
            "the destroy will take effect.\n\n"
            'import * as pulumi from "@pulumi/pulumi";\nimport * as aws from "@pulumi/aws";\n\n'
            'const legacy_uploads = new aws.s3.BucketV2("legacy-uploads", {\n'
            f'    arn: "arn:aws:s3:::{b}",\n    bucket: "{b}",\n'
            '    hostedZoneId: "Z1BKCTXD74EZPE",\n    objectLockEnabled: false,\n    region: "eu-west-1",\n'
            '    requestPayer: "BucketOwner",\n    serverSideEncryptionConfigurations: [{\n        rules: [{\n'
            '            applyServerSideEncryptionByDefaults: [{\n                sseAlgorithm: "AES256",\n'
            "            }],\n            bucketKeyEnabled: false,\n        }],\n    }],\n"
            f'    tags: {{\n        Name: "{b}",\n    }},\n}}, {{\n    protect: true,\n}});\n')
    return text, [b], ['hostedZoneId: "Z1BKCTXD74EZPE"', 'region: "eu-west-1"', 'requestPayer: "BucketOwner"',
                       'sseAlgorithm: "AES256"', "aws:s3/bucketV2:BucketV2"]


def _v11_pulumi_config(g: Gen):
    a, r, role, vpc, s1, s2, cl, b = (g.account(), g.region(), g.name("pms"), g.hexid("vpc"), g.hexid("subnet"),
                                      g.hexid("subnet"), g.name("pms"), g.bucket())
    proj = g.pick(["infra", "platform", "payments-infra"])
    salt = f"v1:{g.alnum(12, _B64)}=:v1:{g.alnum(16, _B64)}:{g.alnum(24, _B64)}=="
    text = (f"# Pulumi.prod.yaml\nencryptionsalt: {salt}\nconfig:\n  aws:region: {r}\n  aws:allowedAccountIds:\n"
            f'    - "{a}"\n  aws:assumeRole:\n    roleArn: arn:aws:iam::{a}:role/{role}\n    sessionName: pulumi-prod\n'
            "  aws:defaultTags:\n    tags:\n      ManagedBy: pulumi\n      Stack: prod\n"
            f"  {proj}:vpcId: {vpc}\n  {proj}:privateSubnetIds:\n    - {s1}\n    - {s2}\n"
            f"  {proj}:clusterName: {cl}\n  {proj}:artifactBucket: {b}\n  {proj}:nodeInstanceType: m6i.large\n"
            f"  {proj}:dbPassword:\n    secure: v1:{g.alnum(16, _B64)}:{g.alnum(40, _B64)}\n")
    return text, [a, role, vpc, s1, s2, cl, b], [f"aws:region: {r}", "ManagedBy: pulumi", "m6i.large", salt,
                                                 "sessionName: pulumi-prod"]


# Serverless Framework
def _v11_sls_yaml(g: Gen):
    a, r, svc, dep, q, sec, sg, sn, t, b = (g.account(), g.region(), g.name("ms"), g.bucket(), g.name("pms"), g.name("ms"),
                                            g.hexid("sg"), g.hexid("subnet"), g.name(), g.bucket())
    text = (f"service: {svc}\nframeworkVersion: '3'\n\nprovider:\n  name: aws\n  runtime: python3.12\n  region: {r}\n"
            "  stage: ${opt:stage, 'prod'}\n  deploymentBucket:\n"
            f"    name: {dep}\n    serverSideEncryption: AES256\n  iam:\n    role:\n      statements:\n"
            "        - Effect: Allow\n          Action:\n            - dynamodb:PutItem\n            - dynamodb:Query\n"
            "          Resource:\n            - arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/${self:custom.tableName}\n"
            "            - !GetAtt OrdersTable.StreamArn\n        - Effect: Allow\n          Action: sqs:SendMessage\n"
            f"          Resource: arn:aws:sqs:{r}:{a}:{q}\n        - Effect: Allow\n"
            f"          Action: secretsmanager:GetSecretValue\n          Resource: arn:aws:secretsmanager:{r}:{a}:secret:{sec}-*\n"
            f"  vpc:\n    securityGroupIds:\n      - {sg}\n    subnetIds:\n      - {sn}\n\n"
            f"custom:\n  tableName: {t}\n\nfunctions:\n  ingest:\n    handler: handler.ingest\n    events:\n"
            f"      - sqs:\n          arn: arn:aws:sqs:{r}:{a}:{q}\n          batchSize: 10\n"
            f"      - s3:\n          bucket: {b}\n          event: s3:ObjectCreated:*\n          existing: true\n\n"
            "resources:\n  Resources:\n    OrdersTable:\n      Type: AWS::DynamoDB::Table\n      Properties:\n"
            "        TableName: ${self:custom.tableName}\n        BillingMode: PAY_PER_REQUEST\n"
            "        AttributeDefinitions:\n          - AttributeName: pk\n            AttributeType: S\n"
            "        KeySchema:\n          - AttributeName: pk\n            KeyType: HASH\n"
            "        StreamSpecification:\n          StreamViewType: NEW_IMAGE\n")
    return text, [a, svc, dep, q, sec, sg, sn, t, b], [
        "${aws:accountId}", "s3:ObjectCreated:*", "AWS::DynamoDB::Table", "BillingMode: PAY_PER_REQUEST",
        "frameworkVersion: '3'", f"region: {r}"]


def _v11_sls_v2_deploy(g: Gen):
    a, r, svc, api = g.account(), g.region(), g.name("ms"), _api_id(g)
    text = ("Serverless: Packaging service...\nServerless: Excluding development dependencies...\n"
            "Serverless: Uploading CloudFormation file to S3...\nServerless: Uploading artifacts...\n"
            f"Serverless: Uploading service {svc}.zip file to S3 (14.2 MB)...\nServerless: Validating template...\n"
            "Serverless: Updating Stack...\nServerless: Checking Stack update progress...\n"
            "..............\nServerless: Stack update finished...\nService Information\n"
            f"service: {svc}\nstage: prod\nregion: {r}\nstack: {svc}-prod\nresources: 23\napi keys:\n  None\n"
            f"endpoints:\n  GET - https://{api}.execute-api.{r}.amazonaws.com/prod/orders\n"
            f"  POST - https://{api}.execute-api.{r}.amazonaws.com/prod/orders\nfunctions:\n"
            f"  list: {svc}-prod-list\n  create: {svc}-prod-create\nlayers:\n  None\n\nStack Outputs\n"
            f"ListLambdaFunctionQualifiedArn: arn:aws:lambda:{r}:{a}:function:{svc}-prod-list:12\n"
            f"ServiceEndpoint: https://{api}.execute-api.{r}.amazonaws.com/prod\n"
            f"ServerlessDeploymentBucketName: {svc}-prod-serverlessdeploymentbucket-{g.alnum(12, _LOWER_ALNUM)}\n"
            "Serverless: Removing old service artifacts from S3...\n")
    return text, [a, svc, api], ["Service Information", "resources: 23", "Serverless: Validating template...",
                                 "ListLambdaFunctionQualifiedArn"]


def _v11_sls_v3_fail(g: Gen):
    a, r, svc, t, other, prof = g.account(), g.region(), g.name("ms"), g.name(), g.name("pms"), g.pick(_MIDDLE)
    rt = _uuid(g)
    text = (f"$ sls deploy --stage prod\n\nDeploying {svc} to stage prod ({r})\n\n"
            f"\u2716 Stack {svc}-prod failed to deploy (46s)\n"
            "Environment: darwin, node 20.11.1, framework 3.38.0 (local) 3.38.0v (global), plugin 7.2.3, SDK 4.5.1\n"
            f'Credentials: Local, "{prof}" profile\nDocs:        docs.serverless.com\nSupport:     forum.serverless.com\n'
            "Bugs:        github.com/serverless/serverless/issues\n\nError:\n"
            "UPDATE_FAILED: OrdersTable (AWS::DynamoDB::Table)\n"
            f'Resource handler returned message: "{t} already exists in stack arn:aws:cloudformation:{r}:{a}:stack/{other}/{_uuid(g)}"'
            f" (RequestToken: {rt}, HandlerErrorCode: AlreadyExists)\n")
    return text, [a, svc, t, other], ["HandlerErrorCode: AlreadyExists", "framework 3.38.0", rt,
                                      "UPDATE_FAILED: OrdersTable (AWS::DynamoDB::Table)"]


# CDK
def _v11_cdk_diff_iam(g: Gen):
    a, r, st, b, t, q, role = (g.account(), g.region(), g.name("Camel"), g.bucket(), g.name(), g.name("pms"),
                               g.name("pms"))
    iam = _v11_box([["", "Resource", "Effect", "Action", "Principal", "Condition"],
                    ["+", "${Handler/ServiceRole.Arn}", "Allow", "sts:AssumeRole", "Service:lambda.amazonaws.com", ""],
                    ["+", f"arn:aws:s3:::{b}/*", "Allow", "s3:GetObject", "AWS:${Handler/ServiceRole}", ""],
                    ["+", f"arn:aws:dynamodb:{r}:{a}:table/{t}", "Allow", "dynamodb:PutItem", "AWS:${Handler/ServiceRole}", ""],
                    ["-", f"arn:aws:sqs:{r}:{a}:{q}", "Allow", "sqs:SendMessage", f"AWS:arn:aws:iam::{a}:role/{role}", ""]])
    pol = _v11_box([["", "Resource", "Managed Policy ARN"],
                    ["+", "${Handler/ServiceRole}",
                     "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]])
    text = (f"$ npx cdk diff\nStack {st}\nIAM Statement Changes\n{iam}\nIAM Policy Changes\n{pol}\n"
            "(NOTE: There may be security-related changes not in this list. See https://github.com/aws/aws-cdk/issues/1299)\n\n"
            "Resources\n[+] AWS::IAM::Role Handler/ServiceRole HandlerServiceRoleFCDC14AE \n"
            "[+] AWS::Lambda::Function Handler Handler886CB40B \n\n\n\u2728  Number of stacks with differences: 1\n")
    return text, [a, st, b, t, q, role], ["sts:AssumeRole", "Service:lambda.amazonaws.com",
                                          "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                          "https://github.com/aws/aws-cdk/issues/1299", "HandlerServiceRoleFCDC14AE"]


def _v11_cdk_diff_resources(g: Gen):
    a, r, st = g.account(), g.region(), g.name("Camel")
    q_old, q_new, t_old, t_new, role_old, v_old, v_new, b = (g.name("pms"), g.name("pms"), g.name(), g.name(), g.name("pms"),
                                                             g.hexid("vpc"), g.hexid("vpc"), g.bucket())
    text = (f"Stack {st}\nResources\n[+] AWS::SQS::Queue DeadLetterQueue DeadLetterQueue9F481546 \n"
            "[~] AWS::Lambda::Function Handler Handler886CB40B \n"
            " \u251c\u2500 [~] Environment\n \u2502   \u2514\u2500 [~] .Variables:\n"
            " \u2502       \u251c\u2500 [~] .QUEUE_URL:\n"
            f" \u2502       \u2502   \u251c\u2500 [-] https://sqs.{r}.amazonaws.com/{a}/{q_old}\n"
            f" \u2502       \u2502   \u2514\u2500 [+] https://sqs.{r}.amazonaws.com/{a}/{q_new}\n"
            " \u2502       \u2514\u2500 [~] .TABLE_NAME:\n"
            f" \u2502           \u251c\u2500 [-] {t_old}\n \u2502           \u2514\u2500 [+] {t_new}\n"
            " \u2514\u2500 [~] Role\n"
            f"     \u251c\u2500 [-] arn:aws:iam::{a}:role/{role_old}\n"
            '     \u2514\u2500 [+] {"Fn::GetAtt":["HandlerServiceRoleFCDC14AE","Arn"]}\n'
            "[~] AWS::EC2::SecurityGroup Sg SgA1B2C3D4 replace\n"
            " \u2514\u2500 [~] VpcId (requires replacement)\n"
            f"     \u251c\u2500 [-] {v_old}\n     \u2514\u2500 [+] {v_new}\n\n"
            "Outputs\n"
            f'[~] Output BucketName BucketName: {{"Value":"{b}","Export":{{"Name":"{st}:BucketName"}}}}\n')
    return text, [a, st, q_old, q_new, t_old, t_new, role_old, v_old, v_new, b], [
        "Handler886CB40B", "(requires replacement)", "AWS::Lambda::Function", "DeadLetterQueue9F481546",
        '{"Fn::GetAtt":["HandlerServiceRoleFCDC14AE","Arn"]}']


def _v11_cdk_synth_json(g: Gen):
    a, r, st, kms, q, dlq, sgdb, vpc, sec = (g.account(), g.region(), g.name("Camel"), _uuid(g), g.name("pms"),
                                             g.name("pms"), g.hexid("sg"), g.hexid("vpc"), "prod/" + g.name("ms"))
    sfx = g.alnum(6, _MIXED_ALNUM)
    doc = {"Resources": {
        "JobsQueue0C4AD9E5": {"Type": "AWS::SQS::Queue",
                              "Properties": {"KmsMasterKeyId": f"arn:aws:kms:{r}:{a}:key/{kms}", "QueueName": q,
                                             "RedrivePolicy": {"deadLetterTargetArn": f"arn:aws:sqs:{r}:{a}:{dlq}",
                                                               "maxReceiveCount": 5}},
                              "UpdateReplacePolicy": "Delete", "DeletionPolicy": "Delete",
                              "Metadata": {"aws:cdk:path": f"{st}/JobsQueue/Resource"}},
        "DbIngressFromService8D2E7A51": {"Type": "AWS::EC2::SecurityGroupIngress",
                                         "Properties": {"GroupId": sgdb, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                                        "SourceSecurityGroupId": {"Fn::GetAtt": ["ServiceSecurityGroup2F4C1B3E", "GroupId"]},
                                                        "Description": "from service"},
                                         "Metadata": {"aws:cdk:path": f"{st}/DbIngressFromService"}},
        "ServiceSecurityGroup2F4C1B3E": {"Type": "AWS::EC2::SecurityGroup",
                                         "Properties": {"GroupDescription": f"{st}/ServiceSecurityGroup", "VpcId": vpc,
                                                        "SecurityGroupEgress": [{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}]}},
        "DbUrlParam4B7E9F21": {"Type": "AWS::SSM::Parameter",
                               "Properties": {"Type": "String", "Value": f"{{{{resolve:secretsmanager:arn:aws:secretsmanager:{r}:{a}:secret:{sec}-{sfx}:SecretString:url::}}}}"}}},
        "Outputs": {"QueueUrl": {"Value": {"Ref": "JobsQueue0C4AD9E5"}, "Export": {"Name": f"{st}:QueueUrl"}}}}
    text = f"$ npx cdk synth {st} --json | head -60\n" + json.dumps(doc, indent=1)
    return text, [a, st, kms, q, dlq, sgdb, vpc, sec], ['"AWS::SQS::Queue"', '"UpdateReplacePolicy": "Delete"',
                                                        "JobsQueue0C4AD9E5", "AWS::EC2::SecurityGroupIngress", '"0.0.0.0/0"']


def _v11_cdk_context(g: Gen):
    a, r, vn, vpc, s1, s2, rt1, rt2, zone, dom = (g.account(), g.region(), g.name("ms"), g.hexid("vpc"), g.hexid("subnet"),
                                                  g.hexid("subnet"), g.hexid("rtb"), g.hexid("rtb"), _v11_zone(g),
                                                  g.pick(_PREFIX) + ".io")
    param = f"/{g.pick(_PREFIX)}/prod/{g.pick(_MIDDLE)}-vpc-id"
    ctx = {f"vpc-provider:account={a}:filter.tag:Name={vn}:region={r}:returnAsymmetricSubnets=true": {
        "vpcId": vpc, "vpcCidrBlock": "10.40.0.0/16", "ownerAccountId": a, "availabilityZones": [],
        "subnetGroups": [{"name": "Private", "type": "Private", "subnets": [
            {"subnetId": s1, "cidr": "10.40.0.0/19", "availabilityZone": f"{r}a", "routeTableId": rt1},
            {"subnetId": s2, "cidr": "10.40.32.0/19", "availabilityZone": f"{r}b", "routeTableId": rt2}]}]},
        f"availability-zones:account={a}:region={r}": [f"{r}a", f"{r}b", f"{r}c"],
        f"hosted-zone:account={a}:domainName={dom}:region={r}": {"Id": f"/hostedzone/{zone}", "Name": f"{dom}."},
        f"ssm:account={a}:parameterName={param}:region={r}": vpc,
        "acknowledged-issue-numbers": [27179, 28888]}
    text = "// cdk.context.json (committed)\n" + json.dumps(ctx, indent=2) + "\n"
    return text, [a, vn, vpc, s1, s2, rt1, rt2, zone, param], ["acknowledged-issue-numbers", "returnAsymmetricSubnets=true",
                                                             '"type": "Private"', '"name": "Private"']


def _v11_cdk_bootstrap(g: Gen):
    a, a2, r = g.account(), g.account(), g.region()
    qual = g.pick(_PREFIX)[:6] + str(g.r.randint(10, 99))
    tk = "CDKToolkit" + g.pick(_MIDDLE).capitalize()
    text = (f"$ npx cdk bootstrap aws://{a}/{r} --qualifier {qual} --toolkit-stack-name {tk} --trust {a2} "
            "--cloudformation-execution-policies arn:aws:iam::aws:policy/AdministratorAccess\n"
            f" \u23f3  Bootstrapping environment aws://{a}/{r}...\nTrusted accounts for deployment: {a2}\n"
            "Trusted accounts for lookup: (none)\nExecution policies: arn:aws:iam::aws:policy/AdministratorAccess\n"
            f"{tk}: creating CloudFormation changeset...\n \u2705  Environment aws://{a}/{r} bootstrapped.\n\n"
            f"$ aws cloudformation describe-stacks --stack-name {tk} --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text\n"
            f"BucketName\tcdk-{qual}-assets-{a}-{r}\nBucketDomainName\tcdk-{qual}-assets-{a}-{r}.s3.{r}.amazonaws.com\n"
            f"FileAssetKeyArn\tAWS_MANAGED_KEY\nImageRepositoryName\tcdk-{qual}-container-assets-{a}-{r}\nBootstrapVersion\t21\n\n"
            "# cdk.json\n"
            f'{{\n  "app": "npx ts-node --prefer-ts-exts bin/app.ts",\n  "context": {{\n    "@aws-cdk/core:bootstrapQualifier": "{qual}"\n  }}\n}}\n')
    return text, [a, a2, qual, tk], ["arn:aws:iam::aws:policy/AdministratorAccess", "AWS_MANAGED_KEY",
                                     "Trusted accounts for lookup: (none)", "@aws-cdk/core:bootstrapQualifier", "BootstrapVersion\t21"]


def _v11_cdk_manifest_missing(g: Gen):
    a, r, st, vpc = g.account(), g.region(), g.name("Camel"), g.hexid("vpc")
    look = f"arn:${{AWS::Partition}}:iam::{a}:role/cdk-hnb659fds-lookup-role-{a}-{r}"
    key = f"vpc-provider:account={a}:filter.vpc-id={vpc}:region={r}:returnAsymmetricSubnets=true"
    doc = {"version": "36.0.0", "artifacts": {
        f"{st}.assets": {"type": "cdk:asset-manifest",
                         "properties": {"file": f"{st}.assets.json", "requiresBootstrapStackVersion": 6,
                                        "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"}},
        st: {"type": "aws:cloudformation:stack", "environment": f"aws://{a}/{r}",
             "properties": {"templateFile": f"{st}.template.json",
                            "lookupRole": {"arn": look, "requiresBootstrapStackVersion": 8,
                                           "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version"}},
             "dependencies": [f"{st}.assets"],
             "metadata": {f"/{st}": [{"type": "aws:cdk:missing-context", "data": key}]},
             "displayName": st}},
        "missing": [{"key": key, "provider": "vpc-provider",
                     "props": {"account": a, "region": r, "filter": {"vpc-id": vpc}, "returnAsymmetricSubnets": True,
                               "lookupRoleArn": look}}]}
    text = "$ cat cdk.out/manifest.json\n" + json.dumps(doc, indent=2) + "\n"
    return text, [a, st, vpc], ['"type": "cdk:asset-manifest"', "/cdk-bootstrap/hnb659fds/version", '"provider": "vpc-provider"',
                                '"version": "36.0.0"', "aws:cdk:missing-context"]


# Terraform
def _v11_tf_state_list_show(g: Gen):
    b1, b2 = g.bucket(), g.bucket()
    text = ("$ terraform state list\ndata.aws_caller_identity.current\ndata.aws_iam_policy_document.assume\n"
            f'aws_s3_bucket.this["{b1}"]\naws_s3_bucket.this["{b2}"]\naws_s3_bucket_versioning.this["{b1}"]\n'
            "module.vpc.aws_subnet.private[0]\nmodule.vpc.aws_subnet.private[1]\nmodule.vpc.aws_vpc.this[0]\n"
            "module.eks.aws_eks_cluster.this[0]\n"
            'module.eks.module.eks_managed_node_group["general"].aws_eks_node_group.this[0]\n'
            f"$ terraform state show 'aws_s3_bucket.this[\"{b1}\"]'\n"
            f'# aws_s3_bucket.this["{b1}"]:\nresource "aws_s3_bucket" "this" {{\n'
            f'    arn                         = "arn:aws:s3:::{b1}"\n    bucket                      = "{b1}"\n'
            f'    bucket_domain_name          = "{b1}.s3.amazonaws.com"\n    bucket_prefix               = null\n'
            f'    bucket_regional_domain_name = "{b1}.s3.eu-west-1.amazonaws.com"\n'
            '    force_destroy               = false\n    hosted_zone_id              = "Z1BKCTXD74EZPE"\n'
            f'    id                          = "{b1}"\n    object_lock_enabled         = false\n'
            '    policy                      = null\n    region                      = "eu-west-1"\n'
            '    request_payer               = "BucketOwner"\n    tags                        = {\n'
            f'        "Name" = "{b1}"\n    }}\n    tags_all                    = {{\n'
            f'        "ManagedBy" = "terraform"\n        "Name"      = "{b1}"\n    }}\n}}\n')
    return text, [b1, b2], ["Z1BKCTXD74EZPE", 'region                      = "eu-west-1"', "data.aws_caller_identity.current",
                            'module.eks.module.eks_managed_node_group["general"]', '"BucketOwner"']


def _v11_tf_import(g: Gen):
    a, r, t, vpc, role, sg, fn, zone, alias, q = (g.account(), g.region(), g.name(), g.hexid("vpc"), g.name("pms"),
                                                  g.hexid("sg"), _fn(g), _v11_zone(g), g.name("ms"), g.name("pms"))
    dom = g.pick(_PREFIX) + ".io"
    text = (f"$ terraform import aws_dynamodb_table.orders {t}\n"
            f'aws_dynamodb_table.orders: Importing from ID "{t}"...\naws_dynamodb_table.orders: Import prepared!\n'
            f"  Prepared aws_dynamodb_table for import\naws_dynamodb_table.orders: Refreshing state... [id={t}]\n\n"
            "Import successful!\n\nThe resources that were imported are shown above. These resources are now in\n"
            "your Terraform state and will henceforth be managed by Terraform.\n\n"
            f"$ terraform import 'module.vpc.aws_vpc.this[0]' {vpc}\n"
            f"$ terraform import aws_iam_role_policy_attachment.ci_readonly {role}/arn:aws:iam::aws:policy/ReadOnlyAccess\n"
            f"$ terraform import aws_security_group_rule.https_in {sg}_ingress_tcp_443_443_0.0.0.0/0\n"
            f"$ terraform import aws_lambda_permission.s3 {fn}/AllowExecutionFromS3Bucket\n"
            f"$ terraform import aws_route53_record.api {zone}_api.{dom}_A\n"
            f"$ terraform import aws_kms_alias.app alias/{alias}\n\n"
            "# imports.tf (Terraform 1.5+)\n"
            f'import {{\n  to = aws_sqs_queue.jobs\n  id = "https://sqs.{r}.amazonaws.com/{a}/{q}"\n}}\n\n'
            f'import {{\n  to = aws_iam_role.ci\n  id = "{role}"\n}}\n')
    return text, [a, t, vpc, role, sg, fn, zone, alias, q], [
        "arn:aws:iam::aws:policy/ReadOnlyAccess", "AllowExecutionFromS3Bucket", "Import successful!",
        "_ingress_tcp_443_443_0.0.0.0/0", "aws_route53_record.api"]


def _v11_tf_plan_modules(g: Gen):
    a, r, cl, svc, fam, repo, er, alias, q = (g.account(), g.region(), g.name("pms"), g.name("ms"), g.name("ms"),
                                              g.name("ms"), g.name("pms"), g.name("ms"), g.name("pms"))
    img = f"{a}.dkr.ecr.{r}.amazonaws.com/{repo}"
    text = ("Terraform used the selected providers to generate the following execution\n"
            "plan. Resource actions are indicated with the following symbols:\n  + create\n  ~ update in-place\n"
            "-/+ destroy and then create replacement\n\nTerraform will perform the following actions:\n\n"
            "  # module.app.aws_ecs_service.this will be updated in-place\n"
            '  ~ resource "aws_ecs_service" "this" {\n'
            f'        id                                 = "arn:aws:ecs:{r}:{a}:service/{cl}/{svc}"\n'
            f'        name                               = "{svc}"\n        tags                               = {{}}\n'
            f'      ~ task_definition                    = "arn:aws:ecs:{r}:{a}:task-definition/{fam}:41" -> (known after apply)\n'
            "        # (14 unchanged attributes hidden)\n\n        # (3 unchanged blocks hidden)\n    }\n\n"
            "  # module.app.aws_ecs_task_definition.this must be replaced\n"
            '-/+ resource "aws_ecs_task_definition" "this" {\n'
            f'      ~ arn                      = "arn:aws:ecs:{r}:{a}:task-definition/{fam}:41" -> (known after apply)\n'
            "      ~ container_definitions    = jsonencode(\n          ~ [\n              ~ {\n"
            f'                  ~ image        = "{img}:1.41.0" -> "{img}:1.42.0"\n'
            '                    name         = "app"\n                    # (8 unchanged attributes hidden)\n'
            "                },\n            ] # forces replacement\n        )\n"
            f'        execution_role_arn       = "arn:aws:iam::{a}:role/{er}"\n        family                   = "{fam}"\n'
            f'      ~ id                       = "{fam}" -> (known after apply)\n'
            "      ~ revision                 = 41 -> (known after apply)\n        # (9 unchanged attributes hidden)\n    }\n\n"
            "  # module.queue.aws_sqs_queue.dlq will be created\n"
            '  + resource "aws_sqs_queue" "dlq" {\n      + arn                               = (known after apply)\n'
            "      + id                                = (known after apply)\n"
            f'      + kms_master_key_id                 = "alias/{alias}"\n'
            f'      + name                              = "{q}"\n      + url                               = (known after apply)\n'
            "      + visibility_timeout_seconds        = 30\n    }\n\nPlan: 1 to add, 1 to change, 1 to destroy.\n\n"
            "Changes to Outputs:\n"
            f'  ~ task_definition_arn = "arn:aws:ecs:{r}:{a}:task-definition/{fam}:41" -> (known after apply)\n')
    return text, [a, cl, svc, fam, repo, er, alias, q], ["(known after apply)", "Plan: 1 to add, 1 to change, 1 to destroy.",
                                                         "# forces replacement", "module.app.aws_ecs_service.this",
                                                         "# (14 unchanged attributes hidden)"]


def _v11_tfstate_instance(g: Gen):
    a, r = g.account(), g.region()
    az = r + g.pick("abc")
    i, ami, sg, sn, vol, prof, kms, alias, eni, kp = (g.iid(), g.hexid("ami"), g.hexid("sg"), g.hexid("subnet"),
                                                      g.hexid("vol"), g.name("pms"), _uuid(g), g.name("ms"), g.hexid("eni"),
                                                      g.name("ms"))
    lin = _uuid(g)
    prov = 'provider["registry.terraform.io/hashicorp/aws"]'
    st = {"version": 4, "terraform_version": "1.8.5", "serial": 57, "lineage": lin, "outputs": {
        "instance_id": {"value": i, "type": "string"}}, "resources": [
        {"mode": "managed", "type": "aws_instance", "name": "bastion", "provider": prov, "instances": [
            {"schema_version": 1, "attributes": {
                "ami": ami, "arn": f"arn:aws:ec2:{r}:{a}:instance/{i}", "availability_zone": az,
                "iam_instance_profile": prof, "id": i, "instance_type": "t3.small", "key_name": kp,
                "primary_network_interface_id": eni, "root_block_device": [
                    {"delete_on_termination": True, "encrypted": True, "kms_key_id": f"arn:aws:kms:{r}:{a}:key/{kms}",
                     "volume_id": vol, "volume_size": 20, "volume_type": "gp3"}],
                "subnet_id": sn, "tags": {"Name": "bastion"}, "vpc_security_group_ids": [sg]},
             "sensitive_attributes": [], "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
             "dependencies": ["aws_kms_key.ebs", "module.vpc.aws_subnet.private"]}]},
        {"mode": "managed", "type": "aws_kms_alias", "name": "ebs", "provider": prov, "instances": [
            {"schema_version": 0, "attributes": {
                "arn": f"arn:aws:kms:{r}:{a}:alias/{alias}", "id": f"alias/{alias}", "name": f"alias/{alias}",
                "target_key_arn": f"arn:aws:kms:{r}:{a}:key/{kms}", "target_key_id": kms},
             "sensitive_attributes": [], "private": "bnVsbA==", "dependencies": ["aws_kms_key.ebs"]}]}],
        "check_results": None}
    return json.dumps(st, indent=2), [a, i, ami, sg, sn, vol, prof, kms, alias, eni, kp], [
        lin, '"instance_type": "t3.small"', "registry.terraform.io/hashicorp/aws", "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ==",
        '"volume_type": "gp3"']


def _v11_atlantis(g: Gen):
    a, r, topic, alarm, q = g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("pms")
    org = g.pick(_PREFIX)
    text = ("Ran Plan for dir: `envs/prod` workspace: `default`\n\n<details><summary>Show Output</summary>\n\n```diff\n\n"
            "Terraform used the selected providers to generate the following execution\n"
            "plan. Resource actions are indicated with the following symbols:\n+ create\n\n"
            "Terraform will perform the following actions:\n\n"
            "  # aws_cloudwatch_metric_alarm.dlq_depth will be created\n"
            '+ resource "aws_cloudwatch_metric_alarm" "dlq_depth" {\n'
            f'+     actions_enabled                       = true\n+     alarm_actions                         = [\n'
            f'+         "arn:aws:sns:{r}:{a}:{topic}",\n        ]\n'
            f'+     alarm_name                            = "{alarm}"\n'
            "+     arn                                   = (known after apply)\n"
            '+     comparison_operator                   = "GreaterThanThreshold"\n'
            "+     dimensions                            = {\n"
            f'+         "QueueName" = "{q}"\n        }}\n'
            '+     evaluation_periods                    = 1\n'
            '+     metric_name                           = "ApproximateNumberOfMessagesVisible"\n'
            '+     namespace                             = "AWS/SQS"\n+     period                                = 300\n'
            '+     statistic                             = "Maximum"\n+     threshold                             = 0\n'
            "    }\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n```\n\n"
            "* :arrow_forward: To **apply** this plan, comment:\n    * `atlantis apply -d envs/prod`\n"
            f"* :put_litter_in_its_place: To **delete** this plan click [here](https://atlantis.{org}.io/lock?id=envs%252Fprod%252Fdefault)\n"
            "* :repeat: To **plan** this project again, comment:\n    * `atlantis plan -d envs/prod`\n</details>\n"
            "Plan: 1 to add, 0 to change, 0 to destroy.\n\n---\n"
            "* :fast_forward: To **apply** all unapplied plans from this pull request, comment:\n    * `atlantis apply`\n"
            "* :put_litter_in_its_place: To delete all plans and locks for the PR, comment:\n    * `atlantis unlock`\n")
    return text, [a, topic, alarm, q], ['"AWS/SQS"', '"ApproximateNumberOfMessagesVisible"', "atlantis apply -d envs/prod",
                                        '"GreaterThanThreshold"', "Plan: 1 to add, 0 to change, 0 to destroy."]


def _v11_tfc_run(g: Gen):
    a, role, vpc, s1, b, pol = g.account(), g.name("pms"), g.hexid("vpc"), g.hexid("subnet"), g.bucket(), g.name("pms")
    run = "run-" + g.alnum(16, _MIXED_ALNUM)
    org, ws = g.pick(_PREFIX), g.pick(["infra-prod", "platform-prod", "network-prod"])
    text = ("Running apply in Terraform Cloud. Output will stream here. Pressing Ctrl-C\n"
            "will cancel the remote apply if it's still pending. If the apply started it\n"
            "will stop streaming the logs, but will not stop the apply running remotely.\n\n"
            f"Preparing the remote apply...\n\nTo view this run in a browser, visit:\nhttps://app.terraform.io/app/{org}/{ws}/runs/{run}\n\n"
            "Waiting for the plan to start...\n\nTerraform v1.8.5\non linux_amd64\nInitializing plugins and modules...\n"
            f"data.aws_iam_policy_document.assume: Reading...\naws_iam_role.ci: Refreshing state... [id={role}]\n"
            f"module.vpc.aws_vpc.this[0]: Refreshing state... [id={vpc}]\n"
            f"module.vpc.aws_subnet.private[0]: Refreshing state... [id={s1}]\n"
            f"aws_s3_bucket.artifacts: Refreshing state... [id={b}]\n"
            f"aws_iam_policy.ci: Refreshing state... [id=arn:aws:iam::{a}:policy/{pol}]\n\n"
            "Terraform will perform the following actions:\n\n"
            "  # aws_iam_role_policy_attachment.ci will be created\n"
            '  + resource "aws_iam_role_policy_attachment" "ci" {\n      + id         = (known after apply)\n'
            f'      + policy_arn = "arn:aws:iam::{a}:policy/{pol}"\n      + role       = "{role}"\n    }}\n\n'
            "Plan: 1 to add, 0 to change, 0 to destroy.\n\n"
            f"aws_iam_role_policy_attachment.ci: Creating...\naws_iam_role_policy_attachment.ci: Creation complete after 1s [id={role}-20240601091427441200000001]\n\n"
            "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n\nOutputs:\n\n"
            f'artifacts_bucket = "{b}"\nci_role_arn = "arn:aws:iam::{a}:role/{role}"\n')
    return text, [a, role, vpc, s1, b, pol], [run, "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
                                              "Terraform v1.8.5", "Waiting for the plan to start..."]


def _v11_tf_console(g: Gen):
    a, b, s1, s2, ro = g.account(), g.bucket(), g.hexid("subnet"), g.hexid("subnet"), _aroa(g)
    sso = g.alnum(16, _HEX)
    who = g.person()
    text = ("$ terraform console\n"
            f'> aws_s3_bucket.uploads.arn\n"arn:aws:s3:::{b}"\n'
            "> data.aws_caller_identity.current\n{\n"
            f'  "account_id" = "{a}"\n'
            f'  "arn" = "arn:aws:sts::{a}:assumed-role/AWSReservedSSO_AdministratorAccess_{sso}/{who}"\n'
            f'  "id" = "{a}"\n  "user_id" = "{ro}:{who}"\n}}\n'
            f'> module.vpc.private_subnets\ntolist([\n  "{s1}",\n  "{s2}",\n])\n'
            '> cidrsubnet("10.20.0.0/16", 4, 2)\n"10.20.32.0/20"\n'
            "> length(module.vpc.azs)\n3\n> exit\n")
    # relabelled (session 11): the private CIDR inside cidrsubnet("10.20.0.0/16", 4, 2) is masked as every
    # private address is (README "Policies"); the call itself must stay
    return text, [a, b, s1, s2, ro, sso], ['> cidrsubnet("', '", 4, 2)', "length(module.vpc.azs)",
                                           "data.aws_caller_identity.current"]


# cfn-lint, rain, describe-stack-events
def _v11_cfn_lint(g: Gen):
    a, r, t, q, kms = g.account(), g.region(), g.name("pms"), g.name("pms"), _uuid(g)
    az = r + "a"
    text = ("$ cfn-lint templates/orders.yaml\n"
            f"E3031 '{t} v2' does not match '^[a-zA-Z0-9_.-]+$'\ntemplates/orders.yaml:18:7\n\n"
            'W3005 Obsolete DependsOn on resource (OrdersTable), dependency already enforced by a "Fn:GetAtt" at '
            "Resources/Handler/Properties/Environment/Variables/TABLE_NAME/Fn::GetAtt\ntemplates/orders.yaml:44:7\n\n"
            "W2531 Runtime 'nodejs16.x' was deprecated on '2024-06-12'. Creation was disabled on '2025-02-28' and update "
            "on '2025-03-31'. Please consider updating to 'nodejs20.x'\ntemplates/orders.yaml:47:7\n\n"
            f"W3010 Avoid hardcoding availability zones '{az}'\ntemplates/orders.yaml:88:9\n\n"
            "I3042 ARN in Resource Handler contains hardcoded AccountId in ARN or incorrectly placed Pseudo Parameters\n"
            "templates/orders.yaml:56:15\n\n"
            "$ cfn-lint --format parseable templates/orders.yaml | head -1\n"
            f"templates/orders.yaml:18:7:18:29:E3031:'{t} v2' does not match '^[a-zA-Z0-9_.-]+$'\n\n"
            "$ sed -n 50,56p templates/orders.yaml\n      Policies:\n        - SQSSendMessagePolicy:\n"
            f"            QueueName: {q}\n        - Statement:\n            - Effect: Allow\n"
            f"              Action: kms:Decrypt\n              Resource: arn:aws:kms:{r}:{a}:key/{kms}\n")
    return text, [a, t, q, kms], ["W3010", "I3042", "'nodejs20.x'", f"'{az}'", "SQSSendMessagePolicy",
                                  "'^[a-zA-Z0-9_.-]+$'"]


def _v11_rain(g: Gen):
    r, st, st2, vpc, b = g.region(), g.name("pms"), g.name("pms"), g.hexid("vpc"), g.bucket()
    rid, rt = _uuid(g), _uuid(g)
    text = (f"$ rain deploy template.yaml {st} --params Stage=prod,VpcId={vpc},ArtifactBucket={b}\n"
            f"CloudFormation will make the following changes:\nStack {st}:\n  + AWS::SQS::Queue DeadLetterQueue\n"
            "  > AWS::Lambda::Function Handler\n  > AWS::IAM::Role HandlerRole\n  - AWS::SNS::Subscription LegacyEmail\n"
            f"Do you wish to continue? (Y/n) y\nDeploying template 'template.yaml' as stack '{st}' in {r}.\n"
            f"Stack {st}: UPDATE_ROLLBACK_COMPLETE\n  Messages:\n"
            '    - Handler: Resource handler returned message: "Error occurred while GetObject. S3 Error Code: NoSuchKey. '
            f'S3 Error Message: The specified key does not exist. (Service: Lambda, Status Code: 400, Request ID: {rid})" '
            f"(RequestToken: {rt}, HandlerErrorCode: InvalidRequest)\n"
            "    - DeadLetterQueue: Resource creation cancelled\n"
            f"failed deploying stack '{st}'\n\n$ rain ls\nCloudFormation stacks in {r}:\n  CDKToolkit: UPDATE_COMPLETE\n"
            f"  {st}: UPDATE_ROLLBACK_COMPLETE\n  {st2}: CREATE_COMPLETE\n")
    return text, [st, st2, vpc, b], ["CDKToolkit: UPDATE_COMPLETE", "HandlerErrorCode: InvalidRequest", "AWS::SNS::Subscription",
                                     rid, "S3 Error Code: NoSuchKey"]


def _v11_stack_events_table(g: Gen):
    a, r, st, fn = g.account(), g.region(), g.name("pms"), g.name("pms")
    sid = f"arn:aws:cloudformation:{r}:{a}:stack/{st}/{_uuid(g)}"
    ev1 = [("EventId", "Handler-UPDATE_FAILED-2024-06-01T09:14:27.441Z"), ("LogicalResourceId", "Handler"),
           ("PhysicalResourceId", fn), ("ResourceStatus", "UPDATE_FAILED"),
           ("ResourceStatusReason", "The role defined for the function cannot be assumed by Lambda."),
           ("ResourceType", "AWS::Lambda::Function"), ("StackId", sid), ("StackName", st),
           ("Timestamp", "2024-06-01T09:14:27.441000+00:00")]
    ev2 = [("EventId", _uuid(g)), ("LogicalResourceId", st), ("PhysicalResourceId", sid),
           ("ResourceStatus", "UPDATE_ROLLBACK_IN_PROGRESS"),
           ("ResourceStatusReason", "The following resource(s) failed to update: [Handler]."),
           ("ResourceType", "AWS::CloudFormation::Stack"), ("StackId", sid), ("StackName", st),
           ("Timestamp", "2024-06-01T09:14:28.102000+00:00")]
    kw = max(len(k) for k, _ in ev1 + ev2) + 2
    vw = max(len(v) for _, v in ev1 + ev2) + 2
    width = kw + vw + 8
    out = ["-" * width, "|" + "DescribeStackEvents".center(width - 2) + "|", "+" + "-" * (width - 2) + "+"]
    for ev in (ev1, ev2):
        out.append("||" + "StackEvents".center(width - 4) + "||")
        sep = "|+" + "-" * (kw + 2) + "+" + "-" * (vw + 1) + "+|"
        out.append(sep)
        out += [f"||  {k.ljust(kw)}|  {v.ljust(vw - 1)}||" for k, v in ev]
        out.append(sep)
    text = (f"$ aws cloudformation describe-stack-events --stack-name {st} --max-items 2 --output table\n"
            + "\n".join(out) + "\n")
    return text, [a, st, fn], ["UPDATE_FAILED", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_IN_PROGRESS",
                               "The role defined for the function cannot be assumed by Lambda."]


# Kubernetes on AWS
def _v11_helm_values_irsa(g: Gen):
    a, r, cl, role, role2, vpc = g.account(), g.region(), g.name("pms"), g.name("pms"), g.name("pms"), g.hexid("vpc")
    text = ("# values/cluster-autoscaler.yaml (chart autoscaler/cluster-autoscaler 9.37.0)\n"
            f"autoDiscovery:\n  clusterName: {cl}\n  tags:\n    - k8s.io/cluster-autoscaler/enabled\n"
            f"    - k8s.io/cluster-autoscaler/{cl}\nawsRegion: {r}\nrbac:\n  serviceAccount:\n    create: true\n"
            "    name: cluster-autoscaler\n    annotations:\n"
            f"      eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n"
            '      eks.amazonaws.com/sts-regional-endpoints: "true"\nextraArgs:\n  balance-similar-node-groups: true\n'
            "  skip-nodes-with-system-pods: false\n  expander: least-waste\nimage:\n  tag: v1.30.1\n---\n"
            "# values/aws-load-balancer-controller.yaml (chart eks/aws-load-balancer-controller 1.8.1)\n"
            f"clusterName: {cl}\nregion: {r}\nvpcId: {vpc}\nserviceAccount:\n  create: true\n"
            "  name: aws-load-balancer-controller\n  annotations:\n"
            f"    eks.amazonaws.com/role-arn: \"arn:aws:iam::{a}:role/{role2}\"\nenableServiceMutatorWebhook: false\n"
            "defaultTags:\n  ManagedBy: aws-load-balancer-controller\n")
    return text, [a, cl, role, role2, vpc], ["eks.amazonaws.com/role-arn", "k8s.io/cluster-autoscaler/enabled", "least-waste",
                                             "tag: v1.30.1", "eks.amazonaws.com/sts-regional-endpoints"]


def _v11_external_dns_logs(g: Gen):
    r, zone = g.region(), _v11_zone(g)
    dom = g.pick(_PREFIX) + ".io"
    ns, ing = g.pick(["default", "web", "shop"]), g.pick(_MIDDLE)
    alb = _v11_alb(g, ns, ing)
    host = f"{ing}.{dom}"

    def t(s: int) -> str:
        return f'time="2024-06-01T09:14:{s:02d}Z"'
    text = (f'{t(11)} level=info msg="Instantiating new Kubernetes client"\n'
            f'{t(11)} level=info msg="Using inCluster-config based on serviceaccount-token"\n'
            f'{t(12)} level=info msg="Applying provider record filter for domains: [{dom}. .{dom}.]"\n'
            f'{t(13)} level=debug msg="Endpoints generated from ingress: {ns}/{ing}: [{host} 0 IN CNAME {alb}.{r}.elb.amazonaws.com [] '
            f'{host} 0 IN A {alb}.{r}.elb.amazonaws.com []]"\n'
            f'{t(14)} level=info msg="Desired change: CREATE {host} A [Id: /hostedzone/{zone}]"\n'
            f'{t(14)} level=info msg="Desired change: CREATE a-{host} TXT [Id: /hostedzone/{zone}]"\n'
            f'{t(14)} level=info msg="Desired change: CREATE {host} TXT [Id: /hostedzone/{zone}]"\n'
            f'{t(15)} level=info msg="3 record(s) in zone {dom}. [Id: /hostedzone/{zone}] were successfully updated"\n'
            f'{t(16)} level=info msg="All records are already up to date"\n')
    return text, [zone, alb], ['msg="All records are already up to date"', "Using inCluster-config based on serviceaccount-token",
                               "level=debug"]


def _v11_external_secrets(g: Gen):
    a, r, role = g.account(), g.region(), g.name("pms")
    app = g.pick(_MIDDLE)
    p1, p2, sec = f"/{g.pick(_PREFIX)}/prod/{app}/db-password", f"/{g.pick(_PREFIX)}/prod/{app}/api-token", f"prod/{app}/{g.name('ms')}"
    text = ("apiVersion: external-secrets.io/v1beta1\nkind: ClusterSecretStore\nmetadata:\n  name: aws-parameter-store\nspec:\n"
            f"  provider:\n    aws:\n      service: ParameterStore\n      region: {r}\n"
            f"      role: arn:aws:iam::{a}:role/{role}\n      auth:\n        jwt:\n          serviceAccountRef:\n"
            "            name: external-secrets\n            namespace: external-secrets\n---\n"
            "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n"
            f"  name: {app}-secrets\n  namespace: {app}\nspec:\n  refreshInterval: 1h\n  secretStoreRef:\n"
            "    kind: ClusterSecretStore\n    name: aws-parameter-store\n  target:\n"
            f"    name: {app}-secrets\n    creationPolicy: Owner\n  data:\n    - secretKey: DB_PASSWORD\n"
            f"      remoteRef:\n        key: {p1}\n    - secretKey: API_TOKEN\n      remoteRef:\n        key: {p2}\n"
            "        decodingStrategy: None\n---\n"
            "apiVersion: external-secrets.io/v1beta1\nkind: SecretStore\nmetadata:\n  name: aws-secrets-manager\n"
            f"  namespace: {app}\nspec:\n  provider:\n    aws:\n      service: SecretsManager\n      region: {r}\n"
            "---\n# and the ExternalSecret it serves:\n  dataFrom:\n    - extract:\n"
            f"        key: {sec}\n        version: AWSCURRENT\n")
    return text, [a, role, p1, p2, sec], ["external-secrets.io/v1beta1", "service: ParameterStore", "service: SecretsManager",
                                          "AWSCURRENT", "creationPolicy: Owner"]


def _v11_cluster_autoscaler_logs(g: Gen):
    cl = g.name("pms")
    ng = f"{g.pick(['general', 'spot', 'gpu', 'system'])}-{g.r.randint(20230101, 20241231)}"
    asg = f"eks-{ng}-{_uuid(g)}"
    asg2 = f"{cl}-{g.pick(['spot-workers', 'batch-nodes'])}-{g.r.randint(2023010100, 2024123199)}"
    r = g.region()
    az = r + g.pick("abc")
    i = g.iid()
    node = _node_host(g, r)

    def k(ts: str, f: str) -> str:
        return f"I0601 09:{ts}       1 {f}] "
    text = (k("14:27.441201", "auto_scaling_groups.go:403") + "Regenerating instance to ASG map for ASG tags: "
            f"map[k8s.io/cluster-autoscaler/enabled: k8s.io/cluster-autoscaler/{cl}:]\n"
            + k("14:27.902114", "auto_scaling_groups.go:154") + f"Registering ASG {asg}\n"
            + k("14:27.902188", "auto_scaling_groups.go:154") + f"Registering ASG {asg2}\n"
            + k("14:28.113050", "aws_manager.go:266") + "Refreshed ASG list, next refresh after 2024-06-01 09:15:28.113041 +0000 UTC m=+61.4\n"
            + k("14:38.420877", "scale_up.go:468") + f"Best option to resize: {asg}\n"
            + k("14:38.420901", "scale_up.go:472") + f"Estimated 2 nodes needed in {asg}\n"
            + k("14:38.421016", "scale_up.go:595") + f"Final scale-up plan: [{{{asg} 3->5 (max: 10)}}]\n"
            + k("14:38.421044", "auto_scaling_groups.go:249") + f"Setting asg {asg} size to 5\n"
            + k("24:02.550310", "scale_down.go:862") + f"Scale-down: removing empty node \"{node}\"\n"
            + k("24:02.991287", "auto_scaling_groups.go:324") + f"Terminating EC2 instance: {i}\n"
            + k("24:03.000014", "delete.go:104") + f"Successfully added ToBeDeletedTaint on node {node} (providerID aws:///{az}/{i})\n")
    return text, [cl, asg, asg2, i], ["scale_up.go:595", "k8s.io/cluster-autoscaler/enabled", "(max: 10)", f"aws:///{az}/"]


def _v11_ipamd_logs(g: Gen):
    e1, e2, sn, sg, i = g.hexid("eni"), g.hexid("eni"), g.hexid("subnet"), g.hexid("sg"), g.iid()
    ip1, ip2 = _ip10(g), _ip10(g)
    mac = ":".join(g.alnum(2, _HEX) for _ in range(6))

    def ln(ts: str, lvl: str, caller: str, msg: str) -> str:
        return json.dumps({"level": lvl, "ts": f"2024-06-01T09:14:{ts}Z", "caller": caller, "msg": msg})
    text = "\n".join([
        ln("27.441", "info", "ipamd/ipamd.go:402", f"Setting up host network... instance {i}"),
        ln("27.502", "debug", "awsutils/awsutils.go:1162", f"Found ENI: {e1}, MAC {mac}, device 0"),
        ln("27.619", "info", "ipamd/ipamd.go:814", f"Added ENI({e1})'s IP/Prefix {ip1}/32 to datastore"),
        ln("31.004", "debug", "ipamd/ipamd.go:733", "IP pool stats: Total IPs/Prefixes = 29, assigned IPs/CIDRs = 27, cooldown IPs = 0"),
        ln("31.005", "info", "awsutils/awsutils.go:714", f"Using {sn} as the subnet for ENI creation"),
        ln("31.006", "debug", "awsutils/awsutils.go:766", f"Creating ENI with security groups: [{sg}] in subnet: {sn}"),
        ln("31.877", "info", "awsutils/awsutils.go:782", f"Created a new ENI: {e2}"),
        ln("32.410", "info", "ipamd/ipamd.go:814", f"Added ENI({e2})'s IP/Prefix {ip2}/32 to datastore"),
        ln("58.129", "error", "ipamd/ipamd.go:845",
           f"Failed to increase pool size due to not able to allocate ENI AllocENI: error attaching ENI: attachENI: failed to "
           f"attach ENI: InsufficientFreeAddressesInSubnet: There are not enough free addresses in subnet '{sn}' to satisfy "
           "the requested number of instances."),
    ]) + "\n"
    return text, [e1, e2, sn, sg, i], ["ipamd/ipamd.go:814", "InsufficientFreeAddressesInSubnet", "awsutils/awsutils.go:1162"]


def _v11_kubectl_ingress(g: Gen):
    r = g.region()
    rows, mask = [["NAMESPACE", "NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]], []
    for ns, name, internal in (("shop", g.pick(_MIDDLE), False), ("internal", g.pick(_MIDDLE) + "-admin", True)):
        lb = _v11_alb(g, ns, name)
        host = ("internal-" if internal else "") + f"{lb}.{r}.elb.amazonaws.com"
        rows.append([ns, name, "alb", f"{name}.{g.pick(_PREFIX)}.io", host, "80, 443", f"{g.r.randint(2, 90)}d"])
        mask.append(lb)
    grp = f"k8s-{g.pick(_MIDDLE)}-{g.alnum(10, _HEX)}-{g.r.randint(1000000000, 1999999999)}"
    rows.append(["web", "landing", "alb", "*", f"{grp}.{r}.elb.amazonaws.com", "80", "3d"])
    mask.append(grp)
    text = "$ kubectl get ingress -A\n" + _v11_cols(rows) + "\n"
    return text, mask, ["NAMESPACE", "80, 443"]


def _v11_kubectl_svc(g: Gen):
    r = g.region()
    classic = g.alnum(32, _HEX)
    nlb_in = f"{classic}-{g.alnum(16, _HEX)}"
    lbc = f"k8s-ingressn-ingressn-{g.alnum(10, _HEX)}"
    nlb2 = f"{lbc}-{g.alnum(16, _HEX)}"
    rows = [["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
            ["default", "kubernetes", "ClusterIP", "172.20.0.1", "<none>", "443/TCP", "412d"],
            ["ingress-nginx", "ingress-nginx-controller", "LoadBalancer", "172.20.14.7",
             f"{nlb2}.elb.{r}.amazonaws.com", "80:31234/TCP,443:30987/TCP", "41d"],
            ["legacy", "gateway", "LoadBalancer", "172.20.201.33", f"{nlb_in}.elb.{r}.amazonaws.com", "443:32102/TCP", "212d"],
            ["monitoring", "grafana", "ClusterIP", "172.20.88.140", "<none>", "80/TCP", "99d"]]
    text = "$ kubectl get svc -A\n" + _v11_cols(rows) + "\n"
    return text, [nlb_in, lbc], ["80:31234/TCP,443:30987/TCP", "LoadBalancer", "ingress-nginx-controller"]


def _v11_kubectl_events(g: Gen):
    a, r, vol, i, role, tg = g.account(), g.region(), g.hexid("vol"), g.iid(), g.name("pms"), f"k8s-shop-{g.pick(_MIDDLE)[:8]}-{g.alnum(10, _HEX)}"
    rid, pvc = _uuid(g), "pvc-" + _uuid(g)
    rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            ["2m", "Warning", "FailedAttachVolume", "pod/postgres-0",
             f'AttachVolume.Attach failed for volume "{pvc}" : rpc error: code = Internal desc = Could not attach volume '
             f'"{vol}" to node "{i}": could not attach volume "{vol}" to node "{i}": operation error EC2: AttachVolume, '
             f"https response error StatusCode: 400, RequestID: {rid}, api error IncorrectState: {vol} is not 'available'."],
            ["3m", "Warning", "FailedBuildModel", "ingress/storefront",
             "Failed build model due to couldn't auto-discover subnets: unable to resolve at least one subnet "
             "(0 match VPC and tags: [kubernetes.io/role/elb])"],
            ["1m", "Warning", "FailedDeployModel", "ingress/checkout",
             f"Failed deploy model due to AccessDenied: User: arn:aws:sts::{a}:assumed-role/{role}/{g.r.randint(10**18, 2 * 10**18)} "
             f"is not authorized to perform: elasticloadbalancing:AddTags on resource: "
             f"arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{g.alnum(16, _HEX)} because no identity-based policy "
             "allows the elasticloadbalancing:AddTags action"],
            ["45s", "Normal", "SuccessfullyReconciled", "targetgroupbinding/k8s-shop-storefro", "Successfully reconciled"]]
    text = "$ kubectl get events -n shop --sort-by=.lastTimestamp\n" + _v11_cols(rows) + "\n"
    return text, [a, vol, i, role, tg], ["FailedAttachVolume", "kubernetes.io/role/elb", "elasticloadbalancing:AddTags", rid]


def _v11_ebs_pv(g: Gen):
    a, r, vol, kms = g.account(), g.region(), g.hexid("vol"), _uuid(g)
    az = r + g.pick("abc")
    pv = "pvc-" + _uuid(g)
    text = ("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: gp3-encrypted\n"
            "provisioner: ebs.csi.aws.com\nparameters:\n  type: gp3\n  encrypted: \"true\"\n"
            f"  kmsKeyId: arn:aws:kms:{r}:{a}:key/{kms}\nvolumeBindingMode: WaitForFirstConsumer\n---\n"
            "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  annotations:\n"
            "    pv.kubernetes.io/provisioned-by: ebs.csi.aws.com\n    volume.kubernetes.io/provisioner-deletion-secret-name: \"\"\n"
            f"  name: {pv}\nspec:\n  accessModes:\n  - ReadWriteOnce\n  capacity:\n    storage: 20Gi\n  csi:\n"
            "    driver: ebs.csi.aws.com\n    fsType: ext4\n    volumeAttributes:\n"
            "      storage.kubernetes.io/csiProvisionerIdentity: 1717233267441-9271-ebs.csi.aws.com\n"
            f"    volumeHandle: {vol}\n  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions:\n"
            f"        - key: topology.kubernetes.io/zone\n          operator: In\n          values:\n          - {az}\n"
            "  persistentVolumeReclaimPolicy: Delete\n  storageClassName: gp3-encrypted\n  volumeMode: Filesystem\n")
    return text, [a, vol, kms], ["ebs.csi.aws.com", f"- {az}", "WaitForFirstConsumer", "1717233267441-9271-ebs.csi.aws.com",
                                 "topology.kubernetes.io/zone"]


def _v11_irsa_describe(g: Gen):
    a, r, role, secn = g.account(), g.region(), g.name("pms"), f"prod/{g.name('ms')}"
    ns, app = g.pick(_MIDDLE), g.pick(_MIDDLE) + "-api"
    text = (f"$ kubectl -n {ns} describe sa {app}\nName:                {app}\nNamespace:           {ns}\n"
            "Labels:              app.kubernetes.io/managed-by=eksctl\n"
            f"Annotations:         eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{role}\n"
            "Image pull secrets:  <none>\nMountable secrets:   <none>\nTokens:              <none>\nEvents:              <none>\n\n"
            f"$ kubectl -n {ns} exec deploy/{app} -- env | grep ^AWS_\nAWS_STS_REGIONAL_ENDPOINTS=regional\n"
            f"AWS_DEFAULT_REGION={r}\nAWS_REGION={r}\nAWS_ROLE_ARN=arn:aws:iam::{a}:role/{role}\n"
            "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\n\n"
            f"$ kubectl -n {ns} logs deploy/{app} --tail=1\n"
            "botocore.errorfactory.AccessDeniedException: An error occurred (AccessDeniedException) when calling the "
            f"GetSecretValue operation: User: arn:aws:sts::{a}:assumed-role/{role}/botocore-session-1717233267 is not "
            f"authorized to perform: secretsmanager:GetSecretValue on resource: {secn} because no identity-based policy "
            "allows the secretsmanager:GetSecretValue action\n")
    return text, [a, role, secn], ["/var/run/secrets/eks.amazonaws.com/serviceaccount/token", "AWS_STS_REGIONAL_ENDPOINTS=regional",
                                   "botocore-session-1717233267", "app.kubernetes.io/managed-by=eksctl", f"AWS_REGION={r}"]


# SDK code: Ruby, PHP, C#, Kotlin, Swift, Elixir
def _v11_ruby(g: Gen):
    a, r, b, kms, q, t, ak, sk = (g.account(), g.region(), g.bucket(), _uuid(g), g.name("pms"), g.name(), g.akid(), g.secret())
    text = ("require 'aws-sdk-s3'\nrequire 'aws-sdk-sqs'\nrequire 'aws-sdk-dynamodb'\n\n"
            f"creds = Aws::Credentials.new('{ak}', '{sk}')\n"
            f"s3 = Aws::S3::Client.new(region: '{r}', credentials: creds)\n"
            f"s3.put_object(bucket: '{b}', key: \"reports/#{{Date.today}}.csv\", body: File.read('report.csv'),\n"
            f"              server_side_encryption: 'aws:kms', ssekms_key_id: '{kms}')\n\n"
            "sqs = Aws::SQS::Client.new(region: '" + r + "')\n"
            f"sqs.send_message(queue_url: '{_queue_url(r, a, q)}', message_body: {{ id: order.id }}.to_json)\n\n"
            "ddb = Aws::DynamoDB::Client.new\n"
            f"ddb.update_item(table_name: '{t}', key: {{ 'pk' => \"ORDER##{{order.id}}\" }},\n"
            "                update_expression: 'SET #s = :s', expression_attribute_names: { '#s' => 'status' },\n"
            "                expression_attribute_values: { ':s' => 'SHIPPED' })\n")
    return text, [a, b, kms, q, t, ak, sk], ["'aws:kms'", "Aws::S3::Client.new", "'aws-sdk-dynamodb'", "'SET #s = :s'"]


def _v11_php(g: Gen):
    a, r, b, t, topic = g.account(), g.region(), g.bucket(), g.name(), g.name("pms")
    text = ("<?php\nrequire 'vendor/autoload.php';\n\nuse Aws\\S3\\S3Client;\nuse Aws\\DynamoDb\\DynamoDbClient;\nuse Aws\\Sns\\SnsClient;\n\n"
            f"$s3 = new S3Client(['version' => 'latest', 'region' => '{r}']);\n"
            f"$s3->putObject([\n    'Bucket'     => '{b}',\n    'Key'        => 'invoices/' . $invoiceId . '.pdf',\n"
            "    'SourceFile' => '/tmp/invoice.pdf',\n    'ACL'        => 'private',\n]);\n\n"
            f"$ddb = new DynamoDbClient(['version' => '2012-08-10', 'region' => '{r}']);\n"
            f"$item = $ddb->getItem([\n    'TableName' => '{t}',\n    'Key'       => ['pk' => ['S' => 'user#' . $userId]],\n]);\n\n"
            f"$sns = new SnsClient(['version' => 'latest', 'region' => '{r}']);\n"
            f"$sns->publish([\n    'TopicArn' => 'arn:aws:sns:{r}:{a}:{topic}',\n    'Message'  => json_encode($event),\n]);\n")
    return text, [a, b, t, topic], ["'version' => 'latest'", "'version' => '2012-08-10'", "'ACL'        => 'private'",
                                    "use Aws\\S3\\S3Client;"]


def _v11_csharp(g: Gen):
    a, b, kms, fn, q = g.account(), g.bucket(), _uuid(g), _fn(g), g.name("pms")
    r = "eu-west-1"
    text = ("using Amazon;\nusing Amazon.S3;\nusing Amazon.S3.Model;\nusing Amazon.Lambda;\nusing Amazon.Lambda.Model;\n"
            "using Amazon.SQS;\nusing Amazon.SQS.Model;\n\n"
            "var s3 = new AmazonS3Client(RegionEndpoint.EUWest1);\nvar request = new PutObjectRequest\n{\n"
            f"    BucketName = \"{b}\",\n    Key = $\"exports/{{DateTime.UtcNow:yyyy-MM-dd}}/ledger.csv\",\n"
            "    FilePath = @\"C:\\exports\\ledger.csv\",\n    ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS,\n"
            f"    ServerSideEncryptionKeyManagementServiceKeyId = \"arn:aws:kms:{r}:{a}:key/{kms}\",\n}};\n"
            "await s3.PutObjectAsync(request);\n\n"
            "var lambda = new AmazonLambdaClient(RegionEndpoint.EUWest1);\n"
            f"await lambda.InvokeAsync(new InvokeRequest {{ FunctionName = \"{fn}\", InvocationType = InvocationType.Event, "
            "Payload = JsonSerializer.Serialize(evt) });\n\n"
            "var sqs = new AmazonSQSClient();\n"
            f"await sqs.SendMessageAsync(new SendMessageRequest {{ QueueUrl = \"{_queue_url(r, a, q)}\", MessageBody = body }});\n")
    return text, [a, b, kms, fn, q], ["RegionEndpoint.EUWest1", "InvocationType.Event", "ServerSideEncryptionMethod.AWSKMS",
                                      "using Amazon.S3.Model;"]


def _v11_kotlin(g: Gen):
    r, b, t, sec = g.region(), g.bucket(), g.name(), "prod/" + g.name("ms")
    text = ("import aws.sdk.kotlin.services.s3.S3Client\nimport aws.sdk.kotlin.services.s3.model.PutObjectRequest\n"
            "import aws.sdk.kotlin.services.dynamodb.DynamoDbClient\nimport aws.sdk.kotlin.services.dynamodb.model.AttributeValue\n"
            "import aws.smithy.kotlin.runtime.content.ByteStream\n\n"
            "suspend fun upload(file: File) {\n"
            f'    S3Client {{ region = "{r}" }}.use {{ s3 ->\n        s3.putObject(PutObjectRequest {{\n'
            f'            bucket = "{b}"\n            key = "uploads/${{file.name}}"\n'
            "            body = ByteStream.fromFile(file)\n        })\n    }\n}\n\n"
            "suspend fun markDone(id: String) {\n"
            f'    DynamoDbClient {{ region = "{r}" }}.use {{ ddb ->\n        ddb.putItem {{\n'
            f'            tableName = "{t}"\n            item = mapOf("pk" to AttributeValue.S(id), "status" to AttributeValue.S("DONE"))\n'
            "        }\n    }\n}\n\n"
            f'val secretId = "{sec}"  // SecretsManagerClient.getSecretValue {{ this.secretId = secretId }}\n')
    return text, [b, t, sec], [f'region = "{r}"', "AttributeValue.S", "aws.sdk.kotlin.services.s3.S3Client",
                               "ByteStream.fromFile(file)"]


def _v11_swift(g: Gen):
    r, b, cid, t = g.region(), g.bucket(), g.alnum(26, _LOWER_ALNUM), g.name()
    up = f"{r}_{g.alnum(9, _MIXED_ALNUM)}"
    idp = f"{r}:{_uuid(g)}"
    text = ("import AWSS3\nimport AWSDynamoDB\nimport Amplify\nimport AWSCognitoAuthPlugin\n\n"
            "enum AWSConfig {\n"
            f'    static let region = "{r}"\n    static let userPoolId = "{up}"\n'
            f'    static let userPoolClientId = "{cid}"\n    static let identityPoolId = "{idp}"\n'
            f'    static let avatarBucket = "{b}"\n}}\n\n'
            "func uploadAvatar(_ data: Data, userId: String) async throws {\n"
            "    let config = try await S3Client.S3ClientConfiguration(region: AWSConfig.region)\n"
            "    let client = S3Client(config: config)\n"
            '    let input = PutObjectInput(body: .data(data), bucket: AWSConfig.avatarBucket, key: "avatars/\\(userId).png")\n'
            "    _ = try await client.putObject(input: input)\n}\n\n"
            "func loadProfile(_ id: String) async throws -> [String: DynamoDBClientTypes.AttributeValue]? {\n"
            "    let ddb = try DynamoDBClient(region: AWSConfig.region)\n"
            f'    let out = try await ddb.getItem(input: GetItemInput(key: ["pk": .s(id)], tableName: "{t}"))\n'
            "    return out.item\n}\n")
    return text, [up, cid, idp, b, t], [f'static let region = "{r}"', "S3Client.S3ClientConfiguration", "AWSCognitoAuthPlugin",
                                        'key: "avatars/\\(userId).png"']


def _v11_elixir(g: Gen):
    a, r, b, t, q = g.account(), g.region(), g.bucket(), g.name(), g.name("pms")
    text = ("# config/runtime.exs\nconfig :ex_aws,\n"
            '  access_key_id: [{:system, "AWS_ACCESS_KEY_ID"}, :instance_role],\n'
            '  secret_access_key: [{:system, "AWS_SECRET_ACCESS_KEY"}, :instance_role],\n'
            f'  region: "{r}"\n\n'
            "# lib/reports/uploader.ex\ndefmodule Reports.Uploader do\n  def upload(path) do\n"
            f'    ExAws.S3.put_object("{b}", "reports/#{{Path.basename(path)}}", File.read!(path),\n'
            '      server_side_encryption: "aws:kms")\n    |> ExAws.request!()\n  end\n\n'
            "  def record(id) do\n"
            f'    ExAws.Dynamo.put_item("{t}", %{{pk: "report##{{id}}", status: "uploaded"}})\n    |> ExAws.request()\n  end\n\n'
            "  def notify(id) do\n"
            f'    ExAws.SQS.send_message("{a}/{q}", Jason.encode!(%{{id: id}}))\n    |> ExAws.request(region: "{r}")\n  end\nend\n')
    return text, [a, b, t, q], ['[{:system, "AWS_ACCESS_KEY_ID"}, :instance_role]', 'server_side_encryption: "aws:kms"',
                                "ExAws.S3.put_object(", f'region: "{r}"\n']


# documents: Jupyter, reStructuredText, AsciiDoc, Org, Mermaid, PlantUML, draw.io
def _v11_ipynb(g: Gen):
    a, r, vpc, sg1, sg2, sgn, b1, b2 = (g.account(), g.region(), g.hexid("vpc"), g.hexid("sg"), g.hexid("sg"), g.name("ms"),
                                        g.bucket(), g.bucket())
    w = max(len(b1), len(b2), 4) + 2
    df = [f"{'':<3}{'Name':>{w}}{'CreationDate':>27}\n", f"{'0':<3}{b1:>{w}} 2022-03-14 10:02:11+00:00\n",
          f"{'1':<3}{b2:>{w}} 2023-11-02 16:45:09+00:00"]
    nb = {"cells": [
        {"cell_type": "code", "execution_count": 3, "id": g.alnum(8, _HEX), "metadata": {}, "outputs": [
            {"name": "stdout", "output_type": "stream",
             "text": [f"{sg1} {sgn} {a}\n", f"{sg2} default {a}\n"]}],
         "source": ["import boto3\n", f'ec2 = boto3.client("ec2", region_name="{r}")\n',
                    f'resp = ec2.describe_security_groups(Filters=[{{"Name": "vpc-id", "Values": ["{vpc}"]}}])\n',
                    'for sg in resp["SecurityGroups"]:\n', '    print(sg["GroupId"], sg["GroupName"], sg["OwnerId"])']},
        {"cell_type": "code", "execution_count": 4, "id": g.alnum(8, _HEX), "metadata": {}, "outputs": [
            {"data": {"text/plain": df}, "execution_count": 4, "metadata": {}, "output_type": "execute_result"}],
         "source": ["import pandas as pd\n", 'pd.DataFrame(boto3.client("s3").list_buckets()["Buckets"])']}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.8"}},
        "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1) + "\n"
    return text, [a, vpc, sg1, sg2, sgn, b1, b2], ['"output_type": "stream"', '"nbformat": 4', '"execution_count": 4',
                                                   "Python 3 (ipykernel)"]


def _v11_rst_grid(g: Gen):
    rows = [["Environment", "Account ID", "VPC", "State bucket"]]
    mask = []
    for env in ("prod", "staging", "dev"):
        a, v, b = g.account(), g.hexid("vpc"), g.bucket()
        rows.append([env, a, v, b])
        mask += [a, v, b]
    w = [max(len(r[i]) for r in rows) for i in range(4)]

    def rule(ch: str) -> str:
        return "+" + "+".join(ch * (x + 2) for x in w) + "+"

    def line(r: list[str]) -> str:
        return "|" + "|".join(f" {c.ljust(w[i])} " for i, c in enumerate(r)) + "|"
    out = [rule("-"), line(rows[0]), rule("=")]
    for r in rows[1:]:
        out += [line(r), rule("-")]
    text = ("Environments\n============\n\n.. table:: AWS accounts per environment\n   :widths: auto\n\n"
            + "\n".join("   " + x for x in out) + "\n\n.. note:: All three use ``us-east-1`` as the home region.\n")
    return text, mask, [".. table:: AWS accounts per environment", "``us-east-1``", "Environments\n============"]


def _v11_rst_simple(g: Gen):
    r = g.region()
    fn, q, t, topic = _fn(g), g.name("pms"), g.name(), g.name("pms")
    rows = [["Service", "Region", "Resource", "Notes"], ["Lambda", r, fn, "python3.12, 512 MB"],
            ["SQS", r, q, "FIFO: no"], ["DynamoDB", r, t, "PAY_PER_REQUEST"], ["SNS", r, topic, "alerts"]]
    w = [max(len(x[i]) for x in rows) for i in range(4)]
    rule = "  ".join("=" * x for x in w)

    def line(x: list[str]) -> str:
        return "  ".join(c.ljust(w[i]) for i, c in enumerate(x)).rstrip()
    text = ("Runtime inventory\n-----------------\n\n" + "\n".join([rule, line(rows[0]), rule] + [line(x) for x in rows[1:]]
                                                                   + [rule]) + "\n")
    return text, [fn, q, t, topic], ["PAY_PER_REQUEST", "python3.12, 512 MB", "Runtime inventory"]


def _v11_asciidoc(g: Gen):
    a, r, vpc, db, cl, b = g.account(), g.region(), g.hexid("vpc"), g.name("pms"), g.name("pms"), g.bucket()
    text = ("== Production resources\n\n"
            f"All resources live in account {a} unless noted.\n\n"
            '.Production resources\n[cols="1,2,1",options="header"]\n|===\n|Resource |Identifier |Region\n\n'
            f"|VPC\n|{vpc}\n|{r}\n\n|RDS instance\n|{db}\n|{r}\n\n|EKS cluster\n|`{cl}`\n|{r}\n\n"
            f"|Backups\n|s3://{b}/rds/\n|us-east-1\n|===\n\n"
            "NOTE: Instance class is `db.r6g.xlarge`; see xref:runbook.adoc[the runbook].\n")
    return text, [a, vpc, db, cl, b], ['[cols="1,2,1",options="header"]', "`db.r6g.xlarge`", "xref:runbook.adoc[the runbook]",
                                       "|Resource |Identifier |Region"]


def _v11_org_table(g: Gen):
    rows = [["Account", "Cluster", "Node group", "Instance type", "Min/Max"]]
    mask = []
    for it, mm in (("m6i.xlarge", "3/12"), ("c7g.2xlarge", "0/40"), ("r6i.large", "2/6")):
        a, cl, ng = g.account(), g.name("pms"), f"{g.pick(['general', 'spot', 'batch'])}-{g.alnum(4, _LOWER_ALNUM)}"
        rows.append([a, cl, ng, it, mm])
        mask += [a, cl, ng]
    w = [max(len(x[i]) for x in rows) for i in range(5)]

    def line(x: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(x)) + " |"
    sep = "|-" + "-+-".join("-" * x for x in w) + "-|"
    text = ("* EKS inventory\n  :PROPERTIES:\n  :UPDATED:  [2024-06-01 Sat 09:14]\n  :END:\n\n"
            + "\n".join([line(rows[0]), sep] + [line(x) for x in rows[1:]]) + "\n\n** TODO move batch to Karpenter\n")
    return text, mask, ["m6i.xlarge", "c7g.2xlarge", "r6i.large", ":UPDATED:  [2024-06-01 Sat 09:14]", "* EKS inventory"]


def _v11_mermaid(g: Gen):
    dist = "E" + g.alnum(13, _UPPER_ALNUM)
    alb, svc, cl, db, q, b = g.name("pms"), g.name("ms"), g.name("pms"), g.name("pms"), g.name("pms"), g.bucket()
    text = ("```mermaid\nflowchart LR\n    U[Users] --> CF[CloudFront " + dist + "]\n"
            f'    CF -->|/static/*| S3[("S3 {b}")]\n'
            f'    CF --> ALB["ALB {alb}"]\n'
            f"    ALB --> ECS[[ECS service {svc} on {cl}]]\n"
            f"    ECS --> DB[(RDS {db})]\n"
            f"    ECS -->|SendMessage| Q>SQS {q}]\n"
            "    subgraph vpc [us-east-1]\n        ALB\n        ECS\n        DB\n    end\n```\n")
    return text, [dist, alb, svc, cl, db, q, b], ["flowchart LR", "subgraph vpc [us-east-1]", "|SendMessage|", "U[Users]"]


def _v11_plantuml(g: Gen):
    fn, b, t, topic, api = _fn(g), g.bucket(), g.name(), g.name("pms"), _api_id(g)
    text = ("@startuml orders\n"
            "!define AWSPuml https://raw.githubusercontent.com/awslabs/aws-icons-for-plantuml/v18.0/dist\n"
            "!include AWSPuml/AWSCommon.puml\n!include AWSPuml/ApplicationIntegration/APIGateway.puml\n"
            "!include AWSPuml/Compute/Lambda.puml\n!include AWSPuml/Database/DynamoDB.puml\n"
            "!include AWSPuml/Storage/SimpleStorageService.puml\n!include AWSPuml/ApplicationIntegration/SimpleNotificationService.puml\n\n"
            f'APIGateway(api, "{api}", "REST API, stage prod")\n'
            f'Lambda(handler, "{fn}", "nodejs20.x")\n'
            f'DynamoDB(orders, "{t}", "on-demand table")\n'
            f'SimpleStorageService(receipts, "{b}", "receipts bucket")\n'
            f'SimpleNotificationService(alerts, "{topic}", "topic")\n\n'
            "api --> handler : POST /orders\nhandler --> orders : PutItem\nhandler --> receipts : PutObject\n"
            "handler ..> alerts : Publish on failure\n@enduml\n")
    return text, [fn, b, t, topic, api], ["https://raw.githubusercontent.com/awslabs/aws-icons-for-plantuml/v18.0/dist",
                                          "AWSPuml/Compute/Lambda.puml", '"nodejs20.x"', "handler --> orders : PutItem"]


def _v11_drawio(g: Gen):
    vpc, sn, i, name, db = g.hexid("vpc"), g.hexid("subnet"), g.iid(), g.name("pms"), g.name("pms")
    ip = _ip10(g)
    text = ('<mxfile host="app.diagrams.net" version="24.4.13">\n  <diagram name="prod" id="' + g.alnum(20, _MIXED_ALNUM) + '">\n'
            '    <mxGraphModel dx="1422" dy="794" grid="1" gridSize="10">\n      <root>\n        <mxCell id="0" />\n'
            '        <mxCell id="1" parent="0" />\n'
            f'        <mxCell id="2" value="VPC {vpc} (10.0.0.0/16)" style="points=[[0,0],[0.25,0]];'
            'shape=mxgraph.aws4.group;grIcon=mxgraph.aws4.group_vpc2;strokeColor=#8C4FFF;fillColor=none;verticalAlign=top;'
            'align=left;spacingLeft=30;fontColor=#AAB7B8;dashed=0;" vertex="1" parent="1">\n'
            '          <mxGeometry x="40" y="40" width="640" height="400" as="geometry" />\n        </mxCell>\n'
            f'        <mxCell id="3" value="Private subnet&lt;br&gt;{sn}" style="shape=mxgraph.aws4.group;'
            'grIcon=mxgraph.aws4.group_security_group;grStroke=0;strokeColor=#00A4A6;fillColor=#E6F6F7;" vertex="1" parent="2">\n'
            '          <mxGeometry x="20" y="40" width="300" height="200" as="geometry" />\n        </mxCell>\n'
            f'        <mxCell id="7" value="&lt;b&gt;{name}&lt;/b&gt;&lt;br&gt;{i}&lt;br&gt;{ip}" style="sketch=0;outlineConnect=0;'
            'fontColor=#232F3E;gradientColor=none;fillColor=#ED7100;strokeColor=none;dashed=0;verticalLabelPosition=bottom;'
            'verticalAlign=top;align=center;html=1;fontSize=12;fontStyle=0;aspect=fixed;pointerEvents=1;'
            'shape=mxgraph.aws4.instance2;" vertex="1" parent="3">\n'
            '          <mxGeometry x="60" y="60" width="48" height="48" as="geometry" />\n        </mxCell>\n'
            f'        <mxCell id="9" value="RDS: {db}" style="shape=mxgraph.aws4.resourceIcon;resIcon=mxgraph.aws4.rds;" '
            'vertex="1" parent="2">\n          <mxGeometry x="400" y="80" width="60" height="60" as="geometry" />\n'
            "        </mxCell>\n      </root>\n    </mxGraphModel>\n  </diagram>\n</mxfile>\n")
    return text, [vpc, sn, i, name, db], ["shape=mxgraph.aws4.instance2;", "grIcon=mxgraph.aws4.group_vpc2;",
                                          'version="24.4.13"', "resIcon=mxgraph.aws4.rds;"]


# negatives
def _v11_neg_ps_regions(g: Gen):
    t = _v11_ps_table(["Region", "Name", "IsShellDefault"],
                      [["af-south-1", "Africa (Cape Town)", "False"], ["ap-east-1", "Asia Pacific (Hong Kong)", "False"],
                       ["ap-northeast-1", "Asia Pacific (Tokyo)", "False"], ["ap-northeast-2", "Asia Pacific (Seoul)", "False"]])
    text = ("PS> Get-AWSRegion | Select-Object -First 4\n\n" + t + "\n\nPS> Get-AWSPowerShellVersion\n\n"
            "AWS Tools for PowerShell\nVersion 4.1.590\nCopyright 2012-2024 Amazon.com, Inc. or its affiliates. All Rights Reserved.\n\n"
            "Amazon Web Services SDK for .NET\nCore Runtime Version 3.7.303.25\n"
            "Copyright 2009-2024 Amazon.com, Inc. or its affiliates. All Rights Reserved.\n")
    return text, [], ["af-south-1", "Asia Pacific (Hong Kong)", "ap-northeast-2", "Version 4.1.590",
                      "Core Runtime Version 3.7.303.25"]


def _v11_neg_tool_versions(g: Gen):
    text = ("$ terraform version\nTerraform v1.8.5\non linux_amd64\n+ provider registry.terraform.io/hashicorp/aws v5.53.0\n"
            "+ provider registry.terraform.io/hashicorp/random v3.6.2\n$ cdk --version\n2.147.0 (build 3338fc0)\n"
            "$ pulumi version\nv3.120.0\n$ pulumi plugin ls\n"
            + _v11_cols([["NAME", "KIND", "VERSION", "SIZE", "INSTALLED", "LAST USED"],
                         ["aws", "resource", "6.38.0", "612 MB", "2 days ago", "2 days ago"],
                         ["random", "resource", "4.16.2", "31 MB", "2 weeks ago", "2 weeks ago"]], 2)
            + "\n$ sls --version\nFramework Core: 3.38.0\nPlugin: 7.2.3\nSDK: 4.5.1\n"
            "$ cfn-lint --version\ncfn-lint 1.3.1\n$ rain --version\nRain v1.8.6 linux/amd64\n")
    return text, [], ["registry.terraform.io/hashicorp/aws v5.53.0", "2.147.0 (build 3338fc0)", "v3.120.0", "612 MB",
                      "Framework Core: 3.38.0", "Rain v1.8.6 linux/amd64"]


def _v11_neg_k8s_addons(g: Gen):
    sc = _v11_cols([["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
                    ["gp2", "kubernetes.io/aws-ebs", "Delete", "WaitForFirstConsumer", "false", "412d"],
                    ["gp3 (default)", "ebs.csi.aws.com", "Delete", "WaitForFirstConsumer", "true", "212d"]])
    hl = "\n".join(x.replace("\x00", " ") for x in _v11_cols([
        ["NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS", "CHART", "APP\x00VERSION"],
        ["aws-load-balancer-controller", "kube-system", "7", "2024-06-01\x0009:14:27.441201\x00+0000\x00UTC", "deployed",
         "aws-load-balancer-controller-1.8.1", "v2.8.1"],
        ["aws-ebs-csi-driver", "kube-system", "3", "2024-05-20\x0011:02:51.118920\x00+0000\x00UTC", "deployed",
         "aws-ebs-csi-driver-2.31.0", "1.31.0"]], 1).split("\n"))
    text = (f"$ kubectl get storageclass\n{sc}\n$ helm list -n kube-system\n{hl}\n"
            "$ kubectl -n kube-system get ds aws-node -o jsonpath='{..image}'\n"
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.18.1-eksbuild.3 "
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.1-eksbuild.3 "
            "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.1-eksbuild.1\n")
    return text, [], ["602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.1-eksbuild.3", "kubernetes.io/aws-ebs",
                      "aws-load-balancer-controller-1.8.1", "WaitForFirstConsumer", "v1.18.1-eksbuild.3", "602401143452"]


VARIANTS_11: list[Template] = [
    # AWS Tools for PowerShell: Get-EC2Instance | Format-Table, Get-S3Bucket / Location / Object, IAM role list and
    # attached policies, Lambda configuration / environment / VPC config, Get-CFNStack and outputs, splatting, $env:
    # credentials and Use-STSRole (#0-#6)
    _v11_ps_ec2_table, _v11_ps_s3, _v11_ps_iam_roles, _v11_ps_lambda_config, _v11_ps_cfn_stack, _v11_ps_splat,
    _v11_ps_env_creds,
    # aws CLI --output yaml / yaml-stream: ec2 describe-instances, rds describe-db-instances, lambda get-function,
    # iam get-role (IRSA trust), ecs describe-services, s3api list-buckets / get-bucket-encryption (#7-#12)
    _v11_yaml_ec2, _v11_yaml_rds, _v11_yaml_stream_lambda, _v11_yaml_iam_role, _v11_yaml_stream_ecs, _v11_yaml_s3api,
    # Pulumi: TypeScript and Python programs, stack output table, preview --diff, import, Pulumi.prod.yaml (#13-#18)
    _v11_pulumi_ts, _v11_pulumi_py, _v11_pulumi_stack_output_table, _v11_pulumi_preview_diff, _v11_pulumi_import,
    _v11_pulumi_config,
    # Serverless Framework: serverless.yml, v2 deploy with Service Information, v3 deploy failure (#19-#21)
    _v11_sls_yaml, _v11_sls_v2_deploy, _v11_sls_v3_fail,
    # CDK: diff IAM tables, diff resources, synth JSON, cdk.context.json, bootstrap with a qualifier, manifest with
    # missing context (#22-#27)
    _v11_cdk_diff_iam, _v11_cdk_diff_resources, _v11_cdk_synth_json, _v11_cdk_context, _v11_cdk_bootstrap,
    _v11_cdk_manifest_missing,
    # Terraform: state list / show, import commands and blocks, plan with module addresses, tfstate v4, Atlantis
    # comment, Terraform Cloud run log, terraform console (#28-#34)
    _v11_tf_state_list_show, _v11_tf_import, _v11_tf_plan_modules, _v11_tfstate_instance, _v11_atlantis, _v11_tfc_run,
    _v11_tf_console,
    # cfn-lint, rain deploy / ls, describe-stack-events --output table (#35-#37)
    _v11_cfn_lint, _v11_rain, _v11_stack_events_table,
    # Kubernetes on AWS: Helm values with IRSA, external-dns logs, external-secrets, cluster-autoscaler logs, aws-node
    # ipamd logs, kubectl get ingress / svc / events, EBS CSI PV and StorageClass, IRSA describe sa / env / error (#38-#47)
    _v11_helm_values_irsa, _v11_external_dns_logs, _v11_external_secrets, _v11_cluster_autoscaler_logs, _v11_ipamd_logs,
    _v11_kubectl_ingress, _v11_kubectl_svc, _v11_kubectl_events, _v11_ebs_pv, _v11_irsa_describe,
    # SDK code: Ruby, PHP, C#, Kotlin, Swift, Elixir ExAws (#48-#53)
    _v11_ruby, _v11_php, _v11_csharp, _v11_kotlin, _v11_swift, _v11_elixir,
    # documents: Jupyter notebook, RST grid and simple tables, AsciiDoc, Org, Mermaid, PlantUML, draw.io (#54-#61)
    _v11_ipynb, _v11_rst_grid, _v11_rst_simple, _v11_asciidoc, _v11_org_table, _v11_mermaid, _v11_plantuml, _v11_drawio,
    # negatives: Get-AWSRegion / version, tool versions, EKS add-on images and storage classes (#62-#64)
    _v11_neg_ps_regions, _v11_neg_tool_versions, _v11_neg_k8s_addons,
]


# --- variants-12: a twelfth held-out list (session 11), written by a helper that never read the engine, its
# packs or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here. Network
# and HTTP (`curl -v` / `-i` / `-I` against API Gateway, a Lambda function URL and S3 with their x-amz-* and
# x-amzn-* headers, `dig` of an internal ALB and an ElastiCache primary endpoint, `nslookup` of an Aurora cluster
# endpoint, `traceroute` and `mtr` through compute.internal hops, `nc -zv`, ~/.ssh/config with an SSM
# ProxyCommand, `ssh -v`, `openssl s_client` to an internal ALB); database clients (psql banner, \conninfo and \l
# on Aurora, an IAM auth token and its PAM failure, the mysql monitor on an Aurora reader, redis-cli INFO on
# ElastiCache, OpenSearch _cluster/health and _cat/indices, DynamoDB PartiQL, Athena and Redshift query editor
# CSV); observability (an X-Ray batch-get-traces document, an OpenTelemetry collector config, the CloudWatch agent
# JSON, Prometheus ec2_sd_configs, Fluent Bit outputs); messaging (an SES bounce through SNS, an SES complaint
# event, SES-sent mail headers, a Slack export thread, a Teams MessageCard, the CloudWatch alarm email); IAM and
# governance (simulate-principal-policy, access advisor, a Config aggregator query, Trusted Advisor and Compute
# Optimizer CSV, organizations list-accounts and list-attached-role-policies as tables, a Security Hub ASFF
# finding, an SCP with aws:SourceVpce / aws:PrincipalOrgID / aws:SourceArn); stack traces and errors (Java SDK v2,
# Node.js SDK v3 as console.log prints it, botocore tracebacks, Go SDK v2, .NET AmazonS3Exception); shell and dev
# environment (.envrc, 1Password op read / inject, chamber, Doppler, a Makefile, a justfile, aws sso login,
# export-credentials for PowerShell); prose (English code-switched with German, Spanish, Hindi in Latin script and
# Chinese, Traditional Chinese console labels (Taiwan) and Cantonese prose (Hong Kong), a GitHub issue with a
# <details> block, a Jira {code} / {noformat} description); two negative-only templates; 64 templates. Kept as
# written, unfixed, to measure later fixes. Measured as it came out (report seed 13, 5 per template): 82.2 % recall
# (text and JSON alike), 63.8 % pass, 93.8 % kept, 24 failing templates (20 leak a value only, #38 only changes a
# must-keep value, #25, #27 and #44 both); seed 7 (1 per template): 81.2 %, 62.5 % pass, 60 of 64 must-keep cases
# kept, the same 24 templates. The misses: names in tool output cells and fields (the key-pair name of an
# IdentityFile path in ~/.ssh/config #9 and in `ssh -v` #10, the Aurora instance identifier in a psql result cell
# #12 and in mysql result cells #14 (their cluster name leaks inside them), table names in PartiQL quoted FROM /
# UPDATE #17, a bucket inside CSV-doubled JSON quotes in Athena results #18, a Glue database cell in Redshift CSV
# #19, a Prometheus tag:Cluster filter value and the instance label built from it #23, a short bucket name after
# Fluent Bit's `bucket` key #24 (1 of 5), SES configuration-set and caller-identity tags #25 #26, Slack export text
# and blocks (queue, function, stack, event-source-mapping UUID) #28, account names in the list-accounts table
# #36, a table after "put order into" in a Go log #44, a bucket / function and the secret key in Doppler's
# box-drawn table #49, Makefile variables (stack, function, cluster) and an ECR repository after $(ECR)/ #50, a
# justfile parameter default #51); names in code-switched prose (German #54, Spanish #55, Hinglish #56,
# Cantonese #59) and in Taiwan console labels with full-width colons, the account included #58. Must-keep values
# changed: the SES message ID #25, the SES outbound IP in X-SES-Outgoing (and Received) #27, the Security Hub
# finding UUID inside the finding ARN #38 (which also rewrote "S3.8" and CompanyName "AWS", not listed), the Go
# SDK's default session name aws-go-sdk-<ms> #44.
# Never tuned to. ---------------------------------------------------------------------------------------------
_V12_SHORT = {"us-east-1": "use1", "us-east-2": "use2", "us-west-2": "usw2", "eu-west-1": "euw1",
              "eu-central-1": "euc1", "ap-southeast-2": "apse2", "ap-northeast-1": "apne1", "sa-east-1": "sae1",
              "ca-central-1": "cac1", "eu-north-1": "eun1"}
_V12_REGION_NAME = {"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
                    "us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)",
                    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)",
                    "sa-east-1": "South America (Sao Paulo)", "ca-central-1": "Canada (Central)",
                    "eu-north-1": "EU (Stockholm)"}
_V12_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_V12_UPHEX = "0123456789ABCDEF"


def _v12_pub_ip(g: Gen) -> str:
    return f"{g.pick([3, 18, 34, 52, 54])}.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}"


def _v12_http_date(g: Gen) -> str:
    return (f"{g.pick(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'])}, {g.r.randint(10, 28)} May 2024 "
            f"{g.r.randint(10, 23)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)} GMT")


def _v12_trace(g: Gen) -> str:
    return f"1-{g.alnum(8, _HEX)}-{g.alnum(24, _HEX)}"


def _v12_rds(g: Gen, r: str):
    """(identifier, endpoint hash) of an RDS / Aurora endpoint."""
    return g.name(g.pick(["pms", "ms", "msn"])), g.alnum(12)


def _v12_cli_table(title: str, sub: str, headers: list[str], rows: list[list[str]]) -> str:
    """The aws CLI's --output table for a list of objects: headers centred, cells left-aligned after two spaces."""
    ws = [max(len(h), *(len(r[i]) for r in rows)) + 4 for i, h in enumerate(headers)]
    inner = sum(ws) + len(ws) - 1
    w = inner + 4
    sep = "|+" + "+".join("-" * x for x in ws) + "+|"
    out = ["-" * w, "|" + title.center(w - 2) + "|", "+" + "-" * (w - 2) + "+", "||" + sub.center(w - 4) + "||",
           sep, "||" + "|".join(h.center(x) for h, x in zip(headers, ws, strict=True)) + "||", sep]
    out += ["||" + "|".join(("  " + c).ljust(x) for c, x in zip(r, ws, strict=True)) + "||" for r in rows]
    out.append(sep)
    return "\n".join(out)


def _v12_mysql_table(headers: list[str], rows: list[list[str]], right: tuple[int, ...] = ()) -> str:
    ws = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (x + 2) for x in ws) + "+"
    def row(cells):
        return "| " + " | ".join(c.rjust(x) if i in right else c.ljust(x)
                                 for i, (c, x) in enumerate(zip(cells, ws, strict=True))) + " |"
    return "\n".join([line, row(headers), line, *[row(r) for r in rows], line])


def _v12_psql_table(headers: list[str], rows: list[list[str]]) -> str:
    ws = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out = [" " + " | ".join(h.center(x) for h, x in zip(headers, ws, strict=True)),
           "-" + "-+-".join("-" * x for x in ws) + "-"]
    out += [" " + " | ".join(c.ljust(x) for c, x in zip(r, ws, strict=True)).rstrip() for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) > 1 else ''})")
    return "\n".join(out)


# network and HTTP
def _v12_curl_apigw(g: Gen):
    r, api, a = g.region(), g.alnum(10), g.account()
    stage, path = g.pick(["prod", "v1", "live"]), g.pick(["orders", "invoices", "customers"])
    host, ip = f"{api}.execute-api.{r}.amazonaws.com", _v12_pub_ip(g)
    rid, apigw = _uuid(g), g.alnum(15, _B64[:62]) + "="
    text = (f"$ curl -v https://{host}/{stage}/{path}/42\n"
            f"* Host {host}:443 was resolved.\n* IPv6: (none)\n* IPv4: {ip}\n*   Trying {ip}:443...\n"
            f"* Connected to {host} ({ip}) port 443\n* ALPN: curl offers h2,http/1.1\n"
            "* TLSv1.3 (OUT), TLS handshake, Client hello (1):\n* TLSv1.3 (IN), TLS handshake, Server hello (2):\n"
            "* SSL connection using TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256 / prime256v1 / rsaEncryption\n"
            "* ALPN: server accepted h2\n* Server certificate:\n"
            f"*  subject: CN=*.execute-api.{r}.amazonaws.com\n*  start date: Mar  4 00:00:00 2024 GMT\n"
            "*  expire date: Apr  2 23:59:59 2025 GMT\n*  issuer: C=US; O=Amazon; CN=Amazon RSA 2048 M02\n"
            "*  SSL certificate verify ok.\n"
            f"> GET /{stage}/{path}/42 HTTP/2\n> Host: {host}\n> User-Agent: curl/8.5.0\n> Accept: */*\n>\n"
            f"< HTTP/2 403\n< date: {_v12_http_date(g)}\n< content-type: application/json\n< content-length: 187\n"
            f"< x-amzn-requestid: {rid}\n< x-amzn-errortype: AccessDeniedException\n< x-amz-apigw-id: {apigw}\n<\n"
            '{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
            f'arn:aws:execute-api:{r}:********{a[-4:]}:{api}/{stage}/GET/{path}/42 with an explicit deny"}}\n'
            f"* Connection #0 to host {host} left intact\n")
    return text, [api], [f"subject: CN=*.execute-api.{r}.amazonaws.com", "CN=Amazon RSA 2048 M02",
                         "x-amzn-errortype: AccessDeniedException", "curl/8.5.0", "< HTTP/2 403"]


def _v12_curl_lambda_url(g: Gen):
    r, a, fn, uid = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.alnum(32)
    rid = _uuid(g)
    text = (f"$ curl -i -X POST https://{uid}.lambda-url.{r}.on.aws/webhook -H 'content-type: application/json' "
            "-d '{\"event\":\"ping\"}'\n"
            f"HTTP/1.1 502 Bad Gateway\nDate: {_v12_http_date(g)}\nContent-Type: application/json\n"
            f"Content-Length: 21\nConnection: keep-alive\nx-amzn-RequestId: {rid}\n"
            "x-amzn-ErrorType: Function.ResponseSizeTooLarge\n"
            f"X-Amzn-Trace-Id: root={_v12_trace(g)};parent={g.alnum(16, _HEX)};sampled=0\n\n"
            "{\"Message\":null}\n"
            f"$ aws lambda get-function-url-config --function-name {fn}\n"
            + json.dumps({"FunctionUrl": f"https://{uid}.lambda-url.{r}.on.aws/",
                          "FunctionArn": f"arn:aws:lambda:{r}:{a}:function:{fn}", "AuthType": "NONE",
                          "CreationTime": "2024-03-02T09:41:17.118504Z",
                          "LastModifiedTime": "2024-05-13T16:02:55.904211Z", "InvokeMode": "BUFFERED"},
                         indent=4) + "\n")
    return text, [uid, a, fn], ["HTTP/1.1 502 Bad Gateway", "Function.ResponseSizeTooLarge", '"InvokeMode": "BUFFERED"',
                                '"AuthType": "NONE"']


def _v12_curl_s3_head(g: Gen):
    r, a, b, key = g.region(), g.account(), g.bucket(), _uuid(g)
    text = (f"$ curl -sI --aws-sigv4 \"aws:amz:{r}:s3\" --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" "
            f"-H \"x-amz-security-token: $AWS_SESSION_TOKEN\" https://{b}.s3.{r}.amazonaws.com/exports/2024/05/orders.parquet\n"
            f"HTTP/1.1 200 OK\nx-amz-id-2: {g.alnum(76, _B64)}\nx-amz-request-id: {g.alnum(16, _V12_UPHEX)}\n"
            f"Date: {_v12_http_date(g)}\nLast-Modified: {_v12_http_date(g)}\nETag: \"{g.alnum(32, _HEX)}\"\n"
            "x-amz-server-side-encryption: aws:kms\n"
            f"x-amz-server-side-encryption-aws-kms-key-id: arn:aws:kms:{r}:{a}:key/{key}\n"
            "x-amz-server-side-encryption-bucket-key-enabled: true\n"
            f"x-amz-version-id: {g.alnum(32, _B64[:62] + '._')}\nAccept-Ranges: bytes\n"
            "Content-Type: application/octet-stream\nContent-Length: 4817203\nServer: AmazonS3\n")
    return text, [b, a, key], ["Server: AmazonS3", "x-amz-server-side-encryption: aws:kms", f"aws:amz:{r}:s3",
                               "$AWS_SECRET_ACCESS_KEY"]


def _v12_dig_alb(g: Gen):
    r, alb = g.region(), g.name(g.pick(["pms", "ms"]))
    host = f"internal-{alb}-{g.r.randint(100000000, 2099999999)}.{r}.elb.amazonaws.com"
    ip1, ip2 = _ip10(g), _ip10(g)
    text = (f"$ dig {host}\n\n; <<>> DiG 9.18.24-0ubuntu0.22.04.1-Ubuntu <<>> {host}\n;; global options: +cmd\n"
            f";; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: {g.r.randint(1000, 65000)}\n"
            ";; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1\n\n;; OPT PSEUDOSECTION:\n"
            f"; EDNS: version: 0, flags:; udp: 65494\n;; QUESTION SECTION:\n;{host}.\tIN\tA\n\n;; ANSWER SECTION:\n"
            f"{host}. 60 IN\tA\t{ip1}\n{host}. 60 IN\tA\t{ip2}\n\n;; Query time: 3 msec\n"
            ";; SERVER: 127.0.0.53#53(127.0.0.53) (UDP)\n;; WHEN: Tue May 14 10:12:03 UTC 2024\n;; MSG SIZE  rcvd: 135\n")
    return text, [alb, host], ["DiG 9.18.24-0ubuntu0.22.04.1-Ubuntu", "127.0.0.53#53(127.0.0.53)", "status: NOERROR"]


def _v12_dig_elasticache(g: Gen):
    r, rg, cid = g.region(), g.name(g.pick(["pms", "ms"])), g.alnum(6)
    dom = f"{rg}.{cid}.{_V12_SHORT[r]}.cache.amazonaws.com"
    text = (f"$ dig +short master.{dom}\n{rg}-001.{dom}.\n{_ip10(g)}\n"
            f"$ dig +short replica.{dom}\n{rg}-002.{dom}.\n{_ip10(g)}\n"
            f"$ aws elasticache describe-replication-groups --replication-group-id {rg} "
            "--query 'ReplicationGroups[0].[Status,ClusterEnabled,AtRestEncryptionEnabled]' --output text\n"
            "available\tFalse\tTrue\n")
    return text, [rg, cid], ["available\tFalse\tTrue", "ReplicationGroups[0].[Status,ClusterEnabled,AtRestEncryptionEnabled]"]


def _v12_nslookup_rds(g: Gen):
    r = g.region()
    cl, cid = _v12_rds(g, r)
    inst = f"{cl}-instance-{g.r.randint(1, 3)}"
    text = (f"$ nslookup {cl}.cluster-{cid}.{r}.rds.amazonaws.com\nServer:\t\t127.0.0.53\nAddress:\t127.0.0.53#53\n\n"
            f"Non-authoritative answer:\n{cl}.cluster-{cid}.{r}.rds.amazonaws.com\tcanonical name = "
            f"{inst}.{cid}.{r}.rds.amazonaws.com.\nName:\t{inst}.{cid}.{r}.rds.amazonaws.com\nAddress: {_ip10(g)}\n\n"
            f"$ nslookup {cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com\n** server can't find "
            f"{cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com: NXDOMAIN\n")
    return text, [cl, cid, inst], ["Non-authoritative answer:", "Address:\t127.0.0.53#53", "NXDOMAIN"]


def _v12_traceroute(g: Gen):
    r = g.pick(["eu-west-1", "us-west-2", "ap-southeast-2"])
    db, cid = _v12_rds(g, r)
    ips = [_ip10(g) for _ in range(3)]
    hops = [f"ip-{ip.replace('.', '-')}.{r}.compute.internal" for ip in ips]
    host = f"{db}.{cid}.{r}.rds.amazonaws.com"
    text = (f"$ traceroute -n -T -p 5432 {host}\n"
            f"traceroute to {host} ({ips[2]}), 30 hops max, 60 byte packets\n"
            f" 1  {ips[0]}  0.412 ms  0.398 ms  0.377 ms\n 2  * * *\n 3  {ips[2]}  1.204 ms  1.187 ms  1.172 ms\n"
            f"$ traceroute -T -p 5432 {host}\n"
            f"traceroute to {host} ({ips[2]}), 30 hops max, 60 byte packets\n"
            f" 1  {hops[0]} ({ips[0]})  0.398 ms  0.371 ms  0.366 ms\n"
            f" 2  {hops[1]} ({ips[1]})  0.811 ms  0.790 ms  0.802 ms\n"
            f" 3  {hops[2]} ({ips[2]})  1.190 ms  1.176 ms  1.169 ms\n")
    return text, [db, cid, *hops], ["30 hops max, 60 byte packets", "traceroute -n -T -p 5432"]


def _v12_mtr(g: Gen):
    r = g.pick(["eu-central-1", "us-east-2", "ap-northeast-1"])
    rg, cid = g.name(g.pick(["pms", "ms"])), g.alnum(6)
    target = f"clustercfg.{rg}.{cid}.{_V12_SHORT[r]}.cache.amazonaws.com"
    local = _ip10(g)
    hops = [f"ip-{_ip10(g).replace('.', '-')}.{r}.compute.internal" for _ in range(2)]
    w = max(len(h) for h in hops) + 4
    head = f"HOST: ip-{local.replace('.', '-')}".ljust(w + 7)
    text = (f"$ mtr -rwc 10 {target}\nStart: 2024-05-14T10:12:03+0000\n"
            f"{head}Loss%   Snt   Last   Avg  Best  Wrst StDev\n"
            f"  1.|-- {hops[0].ljust(w)}0.0%    10    0.3   0.3   0.2   0.5   0.1\n"
            f"  2.|-- {'???'.ljust(w)}100.0    10    0.0   0.0   0.0   0.0   0.0\n"
            f"  3.|-- {hops[1].ljust(w)}0.0%    10    1.1   1.0   0.9   1.4   0.1\n")
    return text, [rg, cid, *hops], ["Loss%   Snt   Last   Avg  Best  Wrst StDev", "100.0    10"]


def _v12_nc(g: Gen):
    r = g.region()
    rg, ecid = g.name(g.pick(["pms", "ms"])), g.alnum(6)
    msk, mskid = g.name(g.pick(["pms", "ms"])), g.alnum(6)
    proxy, cid = g.name("ms"), g.alnum(12)
    redis = f"clustercfg.{rg}.{ecid}.{_V12_SHORT[r]}.cache.amazonaws.com"
    broker = f"b-1.{msk}.{mskid}.c3.kafka.{r}.amazonaws.com"
    px = f"{proxy}.proxy-{cid}.{r}.rds.amazonaws.com"
    text = (f"$ nc -zv {redis} 6379\nConnection to {redis} ({_ip10(g)}) 6379 port [tcp/redis] succeeded!\n"
            f"$ nc -zv -w 3 {broker} 9094\nnc: connect to {broker} ({_ip10(g)}) port 9094 (tcp) timed out: "
            f"Operation now in progress\n$ nc -zv {px} 5432\nConnection to {px} ({_ip10(g)}) 5432 port "
            "[tcp/postgresql] succeeded!\n")
    return text, [rg, ecid, msk, mskid, proxy, cid], ["[tcp/redis] succeeded!", "(tcp) timed out: Operation now in progress"]


def _v12_ssh_config(g: Gen):
    r, i1, i2, kp = g.region(), g.iid(), g.iid(), g.name(g.pick(["pms", "ms"]))
    db, cid = _v12_rds(g, r)
    env = g.pick(["prod", "stage"])
    text = ("# ~/.ssh/config\n"
            f"Host bastion-{env}\n    HostName {i1}\n    User ec2-user\n    IdentityFile ~/.ssh/{kp}.pem\n"
            "    ProxyCommand sh -c \"aws ssm start-session --target %h --document-name AWS-StartSSHSession "
            f"--parameters 'portNumber=%p' --region {r}\"\n\n"
            f"Host pg-tunnel-{env}\n    HostName {i2}\n    User ssm-user\n"
            f"    LocalForward 15432 {db}.{cid}.{r}.rds.amazonaws.com:5432\n"
            "    ProxyCommand aws ssm start-session --target %h --document-name AWS-StartSSHSession "
            "--parameters portNumber=%p\n\n"
            "Host i-* mi-*\n    ProxyCommand sh -c \"aws ssm start-session --target %h --document-name "
            "AWS-StartSSHSession --parameters 'portNumber=%p'\"\n")
    return text, [i1, i2, kp, db, cid], ["AWS-StartSSHSession", "Host i-* mi-*", "User ec2-user", "portNumber=%p"]


def _v12_ssh_v(g: Gen):
    r, kp, ip = g.pick(["eu-west-1", "us-west-2", "eu-central-1"]), g.name(g.pick(["pms", "ms"])), _v12_pub_ip(g)
    host = f"ec2-{ip.replace('.', '-')}.{r}.compute.amazonaws.com"
    text = (f"$ ssh -v -i ~/.ssh/{kp}.pem ec2-user@{host}\n"
            "OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13 30 Jan 2024\n"
            "debug1: Reading configuration data /etc/ssh/ssh_config\n"
            f"debug1: Connecting to {host} [{ip}] port 22.\ndebug1: Connection established.\n"
            f"debug1: identity file /home/dev/.ssh/{kp}.pem type -1\n"
            "debug1: Local version string SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\n"
            "debug1: Remote protocol version 2.0, remote software version OpenSSH_8.7\n"
            f"debug1: Authenticating to {host}:22 as 'ec2-user'\n"
            f"debug1: Server host key: ssh-ed25519 SHA256:{g.alnum(43, _B64)}\n"
            f"debug1: Host '{host}' is known and matches the ED25519 host key.\n"
            "debug1: Authentications that can continue: publickey,gssapi-keyex,gssapi-with-mic\n"
            f"debug1: Offering public key: /home/dev/.ssh/{kp}.pem RSA SHA256:{g.alnum(43, _B64)} explicit\n"
            "debug1: Authentications that can continue: publickey,gssapi-keyex,gssapi-with-mic\n"
            f"ec2-user@{host}: Permission denied (publickey,gssapi-keyex,gssapi-with-mic).\n")
    return text, [kp, host], ["remote software version OpenSSH_8.7", "publickey,gssapi-keyex,gssapi-with-mic",
                              "OpenSSL 3.0.13 30 Jan 2024"]


def _v12_openssl(g: Gen):
    r, a, alb, cert = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), _uuid(g)
    host = f"internal-{alb}-{g.r.randint(100000000, 2099999999)}.{r}.elb.amazonaws.com"
    pem = "\n".join(g.alnum(64, _B64) for _ in range(3))
    text = (f"$ openssl s_client -connect {host}:443 -servername api.internal.example.com </dev/null\n"
            "CONNECTED(00000003)\ndepth=2 C = US, O = Amazon, CN = Amazon Root CA 1\nverify return:1\n"
            "depth=1 C = US, O = Amazon, CN = Amazon RSA 2048 M03\nverify return:1\n"
            "depth=0 CN = *.internal.example.com\nverify return:1\n---\nCertificate chain\n"
            " 0 s:CN = *.internal.example.com\n   i:C = US, O = Amazon, CN = Amazon RSA 2048 M03\n"
            "   a:PKEY: rsaEncryption, 2048 (bit); sigalg: RSA-SHA256\n"
            "   v:NotBefore: Mar  2 00:00:00 2024 GMT; NotAfter: Mar 31 23:59:59 2025 GMT\n"
            " 1 s:C = US, O = Amazon, CN = Amazon RSA 2048 M03\n   i:C = US, O = Amazon, CN = Amazon Root CA 1\n"
            f"---\nServer certificate\n-----BEGIN CERTIFICATE-----\nMIIF{pem}\n-----END CERTIFICATE-----\n"
            "subject=CN = *.internal.example.com\nissuer=C = US, O = Amazon, CN = Amazon RSA 2048 M03\n---\n"
            "No client certificate CA names sent\nPeer signing digest: SHA256\nPeer signature type: RSA-PSS\n"
            "Server Temp Key: X25519, 253 bits\n---\nSSL handshake has read 5441 bytes and written 412 bytes\n"
            "Verification: OK\n---\nNew, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256\n\n"
            f"(listener: HTTPS:443, policy ELBSecurityPolicy-TLS13-1-2-2021-06, certificate "
            f"arn:aws:acm:{r}:{a}:certificate/{cert})\n")
    return text, [alb, host, a, cert], ["CN = Amazon Root CA 1", "ELBSecurityPolicy-TLS13-1-2-2021-06",
                                         "CONNECTED(00000003)", "Cipher is TLS_AES_128_GCM_SHA256"]


# database clients
def _v12_psql(g: Gen):
    r = g.region()
    cl, cid = _v12_rds(g, r)
    inst = f"{cl}-{g.pick(['writer', 'instance-1', 'a'])}"
    host = f"{cl}.cluster-{cid}.{r}.rds.amazonaws.com"
    ip = _ip10(g)
    dbs = [["orders", "app_admin", "UTF8", "libc", "en_US.UTF-8", "en_US.UTF-8", "", "", ""],
           ["postgres", "app_admin", "UTF8", "libc", "en_US.UTF-8", "en_US.UTF-8", "", "", ""],
           ["rdsadmin", "rdsadmin", "UTF8", "libc", "en_US.UTF-8", "en_US.UTF-8", "", "", "rdsadmin=CTc/rdsadmin"],
           ["template1", "app_admin", "UTF8", "libc", "en_US.UTF-8", "en_US.UTF-8", "", "", "=c/app_admin"]]
    text = (f"$ psql \"host={host} port=5432 dbname=orders user=app_rw sslmode=verify-full "
            "sslrootcert=/etc/ssl/certs/rds-global-bundle.pem\"\nPassword for user app_rw: \n"
            "psql (16.2 (Ubuntu 16.2-1.pgdg22.04+1), server 15.5)\n"
            "SSL connection (protocol: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, compression: off)\n"
            "Type \"help\" for help.\n\norders=> \\conninfo\n"
            f"You are connected to database \"orders\" as user \"app_rw\" on host \"{host}\" (address \"{ip}\") "
            "at port \"5432\".\nSSL connection (protocol: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, compression: off)\n"
            "orders=> select aurora_db_instance_identifier(), aurora_version();\n"
            + _v12_psql_table(["aurora_db_instance_identifier", "aurora_version"], [[inst, "15.5.2"]])
            + "\n\norders=> \\l\n" + " " * 40 + "List of databases\n"
            + _v12_psql_table(["Name", "Owner", "Encoding", "Locale Provider", "Collate", "Ctype", "ICU Locale",
                               "ICU Rules", "Access privileges"], dbs) + "\n")
    return text, [cl, cid, inst], ["rdsadmin=CTc/rdsadmin", "cipher: TLS_AES_256_GCM_SHA384", "server 15.5",
                                   "rds-global-bundle.pem"]


def _v12_psql_iam(g: Gen):
    r = g.region()
    db, cid = _v12_rds(g, r)
    host = f"{db}.{cid}.{r}.rds.amazonaws.com"
    ak, tok = _asia(g), quote(_session_token(g), safe="")
    text = (f"$ export PGPASSWORD=\"$(aws rds generate-db-auth-token --hostname {host} --port 5432 --region {r} "
            "--username iam_reader)\"\n$ echo \"$PGPASSWORD\"\n"
            f"{host}:5432/?Action=connect&DBUser=iam_reader&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            f"{ak}%2F20240514%2F{r}%2Frds-db%2Faws4_request&X-Amz-Date=20240514T101203Z&X-Amz-Expires=900&"
            f"X-Amz-SignedHeaders=host&X-Amz-Security-Token={tok}&X-Amz-Signature={g.alnum(64, _HEX)}\n"
            f"$ psql \"host={host} port=5432 dbname=orders user=iam_reader sslmode=require\"\n"
            f"psql: error: connection to server at \"{host}\" ({_ip10(g)}), port 5432 failed: FATAL:  PAM "
            "authentication failed for user \"iam_reader\"\n")
    return text, [db, cid, ak, tok], ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "FATAL:  PAM authentication failed",
                                      "X-Amz-Expires=900", "%2Frds-db%2Faws4_request"]


def _v12_mysql(g: Gen):
    r = g.region()
    cl, cid = _v12_rds(g, r)
    w, rd = f"{cl}-{g.pick(['w', 'node'])}1", f"{cl}-{g.pick(['r', 'reader'])}2"
    text = (f"$ mysql -h {cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com -P 3306 -u admin -p --ssl-ca=global-bundle.pem\n"
            "Enter password: \nWelcome to the MySQL monitor.  Commands end with ; or \\g.\n"
            f"Your MySQL connection id is {g.r.randint(1000, 90000)}\nServer version: 8.0.32 Source distribution\n\n"
            "Copyright (c) 2000, 2024, Oracle and/or its affiliates.\n\n"
            "Oracle is a registered trademark of Oracle Corporation and/or its\naffiliates. Other names may be "
            "trademarks of their respective\nowners.\n\n"
            "Type 'help;' or '\\h' for help. Type '\\c' to clear the current input statement.\n\n"
            "mysql> SELECT @@aurora_server_id, @@aurora_version, @@innodb_read_only;\n"
            + _v12_mysql_table(["@@aurora_server_id", "@@aurora_version", "@@innodb_read_only"],
                               [[rd, "3.05.2", "1"]], right=(2,))
            + "\n1 row in set (0.00 sec)\n\n"
            "mysql> SELECT server_id, session_id, replica_lag_in_milliseconds FROM information_schema.replica_host_status;\n"
            + _v12_mysql_table(["server_id", "session_id", "replica_lag_in_milliseconds"],
                               [[w, "MASTER_SESSION_ID", "0"], [rd, _uuid(g), "12.4"]], right=(2,))
            + "\n2 rows in set (0.01 sec)\n")
    return text, [cl, cid, w, rd], ["MASTER_SESSION_ID", "Server version: 8.0.32 Source distribution",
                                    "information_schema.replica_host_status"]


def _v12_redis(g: Gen):
    r, rg, cid = g.region(), g.name(g.pick(["pms", "ms"])), g.alnum(6)
    host = f"master.{rg}.{cid}.{_V12_SHORT[r]}.cache.amazonaws.com"
    p = f"{host}:6379>"
    text = (f"$ redis-cli -h {host} -p 6379 --tls --user app --askpass\nPlease input password: ********\n"
            f"{p} INFO server\n# Server\nredis_version:7.1.0\nredis_git_sha1:0\nredis_git_dirty:0\nredis_build_id:0\n"
            "redis_mode:standalone\nos:Amazon ElastiCache\narch_bits:64\n"
            f"run_id:{g.alnum(40, _HEX)}\ntcp_port:6379\nuptime_in_seconds:{g.r.randint(100000, 9000000)}\n"
            f"{p} INFO replication\n# Replication\nrole:master\nconnected_slaves:1\n"
            f"slave0:ip={_ip10(g)},port=6379,state=online,offset={g.r.randint(10**8, 10**9)},lag=0\n"
            f"{p} CONFIG GET maxmemory-policy\n(error) ERR unknown command `CONFIG`, with args beginning with: "
            "`GET`, `maxmemory-policy`, \n"
            f"{p} GET session:{g.alnum(12, _HEX)}\n(nil)\n")
    return text, [rg, cid], ["os:Amazon ElastiCache", "redis_version:7.1.0", "(error) ERR unknown command `CONFIG`"]


def _v12_opensearch(g: Gen):
    r, a, d = g.region(), g.account(), g.name(g.pick(["pms", "ms"]))
    did = g.alnum(26)
    ep = f"https://vpc-{d}-{did}.{r}.es.amazonaws.com"
    sig = (f"curl -s --aws-sigv4 \"aws:amz:{r}:es\" --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\" "
           "-H \"x-amz-security-token: $AWS_SESSION_TOKEN\"")
    text = (f"$ {sig} \"{ep}/_cluster/health?pretty\"\n{{\n  \"cluster_name\" : \"{a}:{d}\",\n"
            "  \"status\" : \"yellow\",\n  \"timed_out\" : false,\n  \"number_of_nodes\" : 3,\n"
            "  \"number_of_data_nodes\" : 3,\n  \"discovered_master\" : true,\n"
            "  \"discovered_cluster_manager\" : true,\n  \"active_primary_shards\" : 42,\n  \"active_shards\" : 81,\n"
            "  \"relocating_shards\" : 0,\n  \"initializing_shards\" : 0,\n  \"unassigned_shards\" : 3,\n"
            "  \"delayed_unassigned_shards\" : 0,\n  \"number_of_pending_tasks\" : 0,\n"
            "  \"number_of_in_flight_fetch\" : 0,\n  \"task_max_waiting_in_queue_millis\" : 0,\n"
            "  \"active_shards_percent_as_number\" : 96.42857142857143\n}\n"
            f"$ {sig} \"{ep}/_cat/indices?v&s=index\"\n"
            "health status index                          uuid                   pri rep docs.count docs.deleted store.size pri.store.size\n"
            f"green  open   .kibana_1                      {g.alnum(22, _V12_B64URL)}   1   1        112            4    231.4kb        115.7kb\n"
            f"green  open   .opendistro-job-scheduler-lock {g.alnum(22, _V12_B64URL)}   1   1          3            0     24.1kb         12.0kb\n"
            f"yellow open   app-logs-2024.05.14            {g.alnum(22, _V12_B64URL)}   5   1    8412093            0      6.2gb          3.1gb\n")
    return text, [a, d, did], [".opendistro-job-scheduler-lock", f"aws:amz:{r}:es", "\"status\" : \"yellow\"",
                               "app-logs-2024.05.14"]


def _v12_partiql(g: Gen):
    r, t, t2, gsi = g.region(), g.name(g.pick(["pms", "p_m_s", "Camel"])), g.name("Camel"), g.name("ms")
    n = g.r.randint(100, 999)
    items = {"Items": [{"sk": {"S": f"ORDER#2024-05-14#A{n}"}, "pk": {"S": f"TENANT#{n}"},
                        "status": {"S": "PENDING"}, "total": {"N": "129.90"}}]}
    text = (f"$ aws dynamodb execute-statement --region {r} --statement \"SELECT * FROM \\\"{t}\\\" "
            f"WHERE pk = 'TENANT#{n}' AND begins_with(sk, 'ORDER#')\"\n" + json.dumps(items, indent=4) + "\n"
            f"$ aws dynamodb execute-statement --statement \"SELECT * FROM \\\"{t}\\\".\\\"{gsi}\\\" WHERE status = 'PENDING'\"\n"
            "{\n    \"Items\": []\n}\n"
            f"$ aws dynamodb execute-statement --statement \"UPDATE \\\"{t2}\\\" SET status='SHIPPED' WHERE sku='A{n}'\"\n\n"
            "An error occurred (ValidationException) when calling the ExecuteStatement operation: Where clause does "
            "not contain a mandatory equality on all key attributes\n")
    return text, [t, t2, gsi], ["ValidationException", "ExecuteStatement", "begins_with(sk, 'ORDER#')", '"PENDING"']


def _v12_athena_csv(g: Gen):
    a, r, b, rb = g.account(), g.region(), g.bucket(), g.bucket()
    role1, role2 = g.name(g.pick(["pms", "Camel"])), g.name("pms")
    qid, i = _uuid(g), g.iid()
    text = (f"-- Athena query editor ({r}), workgroup primary; Download results:\n"
            f"-- s3://{rb}/Unsaved/2024/05/14/{qid}.csv\n"
            '"useridentity.arn","eventname","errorcode","requestparameters","count"\n'
            f'"arn:aws:sts::{a}:assumed-role/{role1}/{g.person()}","GetObject","AccessDenied",'
            f'"{{""bucketName"":""{b}"",""key"":""exports/2024-05-13.parquet""}}","1432"\n'
            f'"arn:aws:sts::{a}:assumed-role/{role2}/{i}","PutObject","","{{""bucketName"":""{b}"",'
            '""key"":""incoming/batch-77.json""}","88"\n')
    return text, [a, b, rb, role1, role2, i], ['"GetObject"', '"AccessDenied"', '"useridentity.arn"', qid]


def _v12_redshift_csv(g: Gen):
    a, r, role, gdb, b = g.account(), g.region(), g.name(g.pick(["pms", "Camel"])), g.name("p_m_s"), g.bucket()
    text = ("-- Redshift query editor v2, export result as CSV\n"
            "-- SELECT * FROM svv_external_schemas;\n"
            "esoid,eskind,schemaname,esowner,databasename,esoptions\n"
            f"108412,1,spectrum_orders,100,{gdb},\"{{\"\"IAM_ROLE\"\":\"\"arn:aws:iam::{a}:role/{role}\"\","
            f"\"\"REGION\"\":\"\"{r}\"\"}}\"\n\n"
            "-- SELECT schemaname, tablename, location, input_format FROM svv_external_tables;\n"
            "schemaname,tablename,location,input_format\n"
            f"spectrum_orders,orders_curated,s3://{b}/curated/orders/,"
            "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat\n")
    return text, [a, role, gdb, b], ["org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                                     "svv_external_schemas", "esoid,eskind,schemaname,esowner,databasename,esoptions"]


# observability
def _v12_xray(g: Gen):
    r, a, fn, t = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "Camel"]))
    tid, sid, sub = _v12_trace(g), g.alnum(16, _HEX), g.alnum(16, _HEX)
    rid = g.alnum(52, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    doc = {"id": sid, "name": fn, "start_time": 1715681323.121, "trace_id": tid, "end_time": 1715681323.533,
           "parent_id": g.alnum(16, _HEX),
           "aws": {"account_id": a, "function_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}",
                   "resource_names": [fn]},
           "origin": "AWS::Lambda::Function", "resource_arn": f"arn:aws:lambda:{r}:{a}:function:{fn}",
           "subsegments": [{"id": sub, "name": "DynamoDB", "start_time": 1715681323.201,
                            "end_time": 1715681323.498, "http": {"response": {"status": 400}},
                            "aws": {"operation": "PutItem", "region": r, "request_id": rid, "retries": 2,
                                    "table_name": t},
                            "error": True, "namespace": "aws"}]}
    out = {"Traces": [{"Id": tid, "Duration": 0.412, "LimitExceeded": False,
                       "Segments": [{"Id": sid, "Document": json.dumps(doc, separators=(",", ":"))}]}],
           "UnprocessedTraceIds": []}
    text = f"$ aws xray batch-get-traces --trace-ids {tid}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, fn, t], [tid, "AWS::Lambda::Function", '\\"operation\\":\\"PutItem\\"', rid]


def _v12_otel(g: Gen):
    r, a, role, cl, svc = g.region(), g.account(), g.name("pms"), g.name(g.pick(["pms", "ms"])), g.name("ms")
    text = ("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 0.0.0.0:4317\n"
            "  awsecscontainermetrics:\n    collection_interval: 30s\n\nprocessors:\n  batch/traces:\n"
            "    timeout: 1s\n    send_batch_size: 50\n  resourcedetection:\n    detectors: [env, ecs, ec2]\n\n"
            f"exporters:\n  awsxray:\n    region: {r}\n    role_arn: arn:aws:iam::{a}:role/{role}\n"
            "    indexed_attributes: [otel.resource.service.name]\n"
            "  awsemf:\n    namespace: ECS/AWSOTel/Application\n"
            f"    log_group_name: '/aws/ecs/containerinsights/{cl}/performance'\n    log_stream_name: '{{TaskId}}'\n"
            f"    region: {r}\n    resource_to_telemetry_conversion:\n      enabled: true\n"
            "    dimension_rollup_option: NoDimensionRollup\n"
            f"  awscloudwatchlogs:\n    log_group_name: \"/otel/{svc}\"\n    log_stream_name: \"{svc}-collector\"\n"
            f"    region: {r}\n    endpoint: https://logs.{r}.amazonaws.com\n\n"
            "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [resourcedetection, batch/traces]\n"
            "      exporters: [awsxray]\n    metrics:\n      receivers: [awsecscontainermetrics]\n"
            "      exporters: [awsemf]\n    logs:\n      receivers: [otlp]\n      exporters: [awscloudwatchlogs]\n")
    return text, [a, role, cl, svc], ["dimension_rollup_option: NoDimensionRollup", f"endpoint: https://logs.{r}.amazonaws.com",
                                      "log_stream_name: '{TaskId}'", "awsecscontainermetrics"]


def _v12_cwagent(g: Gen):
    a, role, lg, asg = g.account(), g.name("pms"), g.name(g.pick(["pms", "ms"])), g.name("pms")
    cfg = {"agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent",
                     "credentials": {"role_arn": f"arn:aws:iam::{a}:role/{role}"}},
           "metrics": {"namespace": "CWAgent",
                       "append_dimensions": {"AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                                             "InstanceId": "${aws:InstanceId}",
                                             "InstanceType": "${aws:InstanceType}"},
                       "aggregation_dimensions": [["AutoScalingGroupName"]],
                       "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]},
                                             "disk": {"measurement": ["used_percent"], "resources": ["/"]}}},
           "logs": {"logs_collected": {"files": {"collect_list": [
               {"file_path": "/var/log/app/*.log", "log_group_name": f"/app/{lg}",
                "log_stream_name": "{instance_id}", "retention_in_days": 30, "timezone": "UTC"}]}},
               "force_flush_interval": 15}}
    text = ("$ sudo cat /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json\n"
            + json.dumps(cfg, indent=2) + "\n"
            f"$ aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names {asg} "
            "--query 'AutoScalingGroups[].Instances[].HealthStatus'\n[\n    \"Healthy\",\n    \"Unhealthy\"\n]\n")
    return text, [a, role, lg, asg], ['"${aws:InstanceId}"', '"namespace": "CWAgent"', '"mem_used_percent"',
                                      '"log_stream_name": "{instance_id}"']


def _v12_prometheus(g: Gen):
    r, a, role, vpc, cl = g.region(), g.account(), g.name("pms"), g.hexid("vpc"), g.name(g.pick(["pms", "ms"]))
    i = g.iid()
    text = ("scrape_configs:\n  - job_name: node\n    ec2_sd_configs:\n"
            f"      - region: {r}\n        port: 9100\n        role_arn: arn:aws:iam::{a}:role/{role}\n"
            "        refresh_interval: 60s\n        filters:\n          - name: tag:Cluster\n"
            f"            values: [{cl}]\n          - name: vpc-id\n            values: [{vpc}]\n"
            "          - name: instance-state-name\n            values: [running]\n"
            "    relabel_configs:\n      - source_labels: [__meta_ec2_tag_Name]\n        target_label: instance\n"
            "      - source_labels: [__meta_ec2_instance_id]\n        target_label: instance_id\n"
            "      - source_labels: [__meta_ec2_availability_zone]\n"
            f"        regex: {r}[ab]\n        action: keep\n"
            "      - source_labels: [__meta_ec2_private_ip]\n        regex: '(.*)'\n"
            "        replacement: '${1}:9100'\n        target_label: __address__\n\n"
            "# up == 0 since 09:40:\n"
            f"up{{instance=\"{cl}-worker-3\", instance_id=\"{i}\", job=\"node\"}} 0\n")
    return text, [a, role, vpc, cl, i], ["__meta_ec2_instance_id", "ec2_sd_configs", "replacement: '${1}:9100'",
                                         "instance-state-name"]


def _v12_fluentbit(g: Gen):
    r, a, role, svc = g.region(), g.account(), g.name("pms"), g.name("ms")
    stream, b = g.name(g.pick(["pms", "ms"])), g.bucket()
    text = ("[SERVICE]\n    Flush        1\n    Log_Level    info\n    Parsers_File parsers.conf\n\n"
            "[OUTPUT]\n    Name                cloudwatch_logs\n    Match               app.*\n"
            f"    region              {r}\n    log_group_name      /ecs/{svc}\n    log_stream_prefix   fluent-bit-\n"
            f"    auto_create_group   On\n    role_arn            arn:aws:iam::{a}:role/{role}\n\n"
            "[OUTPUT]\n    Name                kinesis_firehose\n    Match               audit.*\n"
            f"    region              {r}\n    delivery_stream     {stream}\n    time_key            time\n\n"
            "[OUTPUT]\n    Name                s3\n    Match               *\n"
            f"    bucket              {b}\n    region              {r}\n    total_file_size     50M\n"
            "    upload_timeout      10m\n    s3_key_format       /fluent-bit-logs/$TAG[2]/%Y/%m/%d/$UUID.gz\n"
            "    compression         gzip\n")
    return text, [a, role, svc, stream, b], ["cloudwatch_logs", "kinesis_firehose",
                                             "/fluent-bit-logs/$TAG[2]/%Y/%m/%d/$UUID.gz", "log_stream_prefix   fluent-bit-"]


# messaging
def _v12_ses_bounce(g: Gen):
    r, a, topic, cfg, user = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms"), g.name("ms")
    mid = f"0102018f{g.alnum(8, _HEX)}-{_uuid(g)}-000000"
    sub = _uuid(g)
    msg = {"notificationType": "Bounce",
           "bounce": {"feedbackId": f"0102018f{g.alnum(8, _HEX)}-{_uuid(g)}-000000", "bounceType": "Permanent",
                      "bounceSubType": "General",
                      "bouncedRecipients": [{"emailAddress": "no-such-user@example.net", "action": "failed",
                                             "status": "5.1.1",
                                             "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                      "timestamp": "2024-05-14T10:12:04.221Z", "remoteMtaIp": "203.0.113.25",
                      "reportingMTA": f"dns; a7-12.smtp-out.{r}.amazonses.com"},
           "mail": {"timestamp": "2024-05-14T10:12:03.000Z", "source": "orders@example.com",
                    "sourceArn": f"arn:aws:ses:{r}:{a}:identity/example.com", "sourceIp": "198.51.100.9",
                    "callerIdentity": user, "sendingAccountId": a, "messageId": mid,
                    "destination": ["no-such-user@example.net"],
                    "tags": {"ses:configuration-set": [cfg], "ses:caller-identity": [user],
                             "ses:source-ip": ["198.51.100.9"]}}}
    env = {"Type": "Notification", "MessageId": _uuid(g), "TopicArn": f"arn:aws:sns:{r}:{a}:{topic}",
           "Message": json.dumps(msg, separators=(",", ":")), "Timestamp": "2024-05-14T10:12:04.310Z",
           "SignatureVersion": "1", "Signature": g.alnum(172, _B64),
           "SigningCertURL": f"https://sns.{r}.amazonaws.com/SimpleNotificationService-60eadc530605d63b8e62a523676ef735.pem",
           "UnsubscribeURL": f"https://sns.{r}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:{r}:{a}:{topic}:{sub}"}
    text = json.dumps(env, indent=2) + "\n"
    return text, [a, topic, cfg, user], ['\\"bounceType\\":\\"Permanent\\"', "SimpleNotificationService-60eadc530605d63b8e62a523676ef735.pem",
                                         '\\"bounceSubType\\":\\"General\\"', mid]


def _v12_ses_complaint(g: Gen):
    r, a, cfg, user = g.region(), g.account(), g.name("ms"), g.name(g.pick(["pms", "ms"]))
    ev = {"eventType": "Complaint",
          "complaint": {"feedbackId": f"0102018f{g.alnum(8, _HEX)}-{_uuid(g)}-000000", "complaintSubType": None,
                        "complainedRecipients": [{"emailAddress": "reader@example.net"}],
                        "timestamp": "2024-05-14T11:40:19.000Z", "userAgent": "Yahoo!-Mail-Feedback/2.0",
                        "complaintFeedbackType": "abuse", "arrivalDate": "2024-05-14T11:40:18.000Z"},
          "mail": {"timestamp": "2024-05-14T09:00:02.118Z", "source": "news@example.com",
                   "sourceArn": f"arn:aws:ses:{r}:{a}:identity/news@example.com", "sendingAccountId": a,
                   "messageId": f"0102018f{g.alnum(8, _HEX)}-{_uuid(g)}-000000",
                   "destination": ["reader@example.net"], "headersTruncated": False,
                   "tags": {"ses:configuration-set": [cfg], "ses:source-tls-version": ["TLSv1.3"],
                            "ses:operation": ["SendBulkEmail"], "ses:caller-identity": [user],
                            "campaign": ["may-newsletter"]}}}
    text = ("firehose record (s3 event destination), one per line:\n" + json.dumps(ev, separators=(",", ":")) + "\n")
    return text, [a, cfg, user], ['"complaintFeedbackType":"abuse"', "Yahoo!-Mail-Feedback/2.0", '"SendBulkEmail"',
                                  '"eventType":"Complaint"']


def _v12_ses_headers(g: Gen):
    r, a, b, role = g.pick(["eu-west-1", "us-west-2", "us-east-1"]), g.account(), g.bucket(), g.name("pms")
    ip = f"54.240.{g.r.randint(0, 15)}.{g.r.randint(1, 250)}"
    smtp = f"a{ip.split('.')[2]}-{ip.split('.')[3]}.smtp-out.{r}.amazonses.com"
    mid = f"0102018f{g.alnum(8, _HEX)}-{_uuid(g)}-000000"
    text = ("Delivered-To: ops@example.org\n"
            f"Return-Path: <{mid}@{r}.amazonses.com>\n"
            f"Received: from {smtp} ({smtp}. [{ip}])\n        by mx.google.com with ESMTPS id "
            f"{g.alnum(20)}\n        for <ops@example.org>\n"
            "        (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128);\n"
            "        Tue, 14 May 2024 03:12:04 -0700 (PDT)\n"
            "Authentication-Results: mx.google.com;\n"
            f"       dkim=pass header.i=@amazonses.com header.s={g.alnum(32)} header.b={g.alnum(8, _B64)};\n"
            f"       spf=pass (google.com: domain of {mid}@{r}.amazonses.com designates {ip} as permitted sender) "
            f"smtp.mailfrom={mid}@{r}.amazonses.com;\n"
            "       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.com\n"
            "Subject: [ALERT] nightly export failed\nFrom: Export Bot <alerts@example.com>\nTo: ops@example.org\n"
            f"Message-ID: <{mid}@email.amazonses.com>\n"
            f"Feedback-ID: 1.{r}.{g.alnum(43, _B64)}=:AmazonSES\nX-SES-Outgoing: 2024.05.14-{ip}\n\n"
            f"The nightly export to s3://{b}/exports/ failed: AccessDenied for role {role} in account {a}.\n")
    return text, [b, role, a], [smtp, ":AmazonSES", f"X-SES-Outgoing: 2024.05.14-{ip}", mid]


def _v12_slack_export(g: Gen):
    r, a, q, fn, stack = g.region(), g.account(), g.name(g.pick(["pms", "msn"])), g.name("pms"), g.name("Camel")
    esm = _uuid(g)
    url = f"https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{fn}"
    t1 = (f"DLQ alarm again :rotating_light: `{q}` has 3.2k msgs, consumer is `{fn}` in <{url}|prod ({a})>")
    t2 = (f"event source mapping `{esm}` got disabled after the {stack} deploy, re-enabled with "
          f"`aws lambda update-event-source-mapping --uuid {esm} --enabled`")
    def msg(text, user, ts, thread, code):
        return {"client_msg_id": _uuid(g), "type": "message", "text": text, "user": user, "ts": ts,
                "blocks": [{"type": "rich_text", "block_id": g.alnum(4, _B64[:62]), "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "see "},
                                                               {"type": "text", "text": code, "style": {"code": True}}]}]}],
                "team": "T01QK7Z3M2A", "user_team": "T01QK7Z3M2A", "thread_ts": thread,
                "user_profile": {"real_name": user.lower(), "display_name": ""}}
    ts1, ts2 = "1715681523.381249", "1715681911.004519"
    body = [dict(msg(t1, "U04QF7K2M1A", ts1, ts1, q), reply_count=1, reply_users=["U02B8LM4P7X"]),
            dict(msg(t2, "U02B8LM4P7X", ts2, ts1, esm), parent_user_id="U04QF7K2M1A")]
    text = "incident-orders/2024-05-14.json\n" + json.dumps(body, indent=4, ensure_ascii=False).replace("/", "\\/") + "\n"
    return text, [a, q, fn, stack, esm], ['"rich_text_section"', '"thread_ts": "1715681523.381249"', "T01QK7Z3M2A"]


def _v12_teams_card(g: Gen):
    r, a, alarm, q = g.region(), g.account(), g.name(g.pick(["pms", "msn"])), g.name(g.pick(["pms", "ms"]))
    card = {"@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": "d63333",
            "summary": f"ALARM: {alarm}",
            "sections": [{"activityTitle": f"ALARM: \"{alarm}\" in {_V12_REGION_NAME[r]}",
                          "activitySubtitle": "Threshold Crossed: 1 datapoint [418.0] was greater than the threshold (300.0).",
                          "facts": [{"name": "Account", "value": a},
                                    {"name": "Alarm ARN", "value": f"arn:aws:cloudwatch:{r}:{a}:alarm:{alarm}"},
                                    {"name": "Metric", "value": "AWS/SQS ApproximateAgeOfOldestMessage"},
                                    {"name": "Dimensions", "value": f"QueueName = {q}"},
                                    {"name": "State", "value": "OK -> ALARM"}],
                          "markdown": True}],
            "potentialAction": [{"@type": "OpenUri", "name": "View in CloudWatch",
                                 "targets": [{"os": "default",
                                              "uri": f"https://console.aws.amazon.com/cloudwatch/home?region={r}#alarmsV2:alarm/{alarm}"}]}]}
    text = ("$ curl -H 'Content-Type: application/json' -d @card.json \"$TEAMS_WEBHOOK_URL\"\n$ cat card.json\n"
            + json.dumps(card, indent=2) + "\n")
    return text, [a, alarm, q], ['"@type": "MessageCard"', "AWS/SQS ApproximateAgeOfOldestMessage", "OK -> ALARM"]


def _v12_alarm_email(g: Gen):
    r, a, alarm, q, topic = g.region(), g.account(), g.name(g.pick(["pms", "msn"])), g.name("pms"), g.name("ms")
    sub = _uuid(g)
    text = (f"You are receiving this email because your Amazon CloudWatch Alarm \"{alarm}\" in the "
            f"{_V12_REGION_NAME[r]} region has entered the ALARM state, because \"Threshold Crossed: 1 out of the last "
            "1 datapoints [42.0 (14/05/24 10:07:00)] was greater than the threshold (0.0) (minimum 1 datapoint for "
            "OK -> ALARM transition).\" at \"Tuesday 14 May, 2024 10:12:03 UTC\".\n\n"
            "View this alarm in the AWS Management Console:\n"
            f"https://{r}.console.aws.amazon.com/cloudwatch/deeplink.js?region={r}#alarmsV2:alarm/{alarm}\n\n"
            f"Alarm Details:\n- Name:                       {alarm}\n- Description:                \n"
            "- State Change:               OK -> ALARM\n"
            "- Reason for State Change:    Threshold Crossed: 1 out of the last 1 datapoints [42.0 (14/05/24 10:07:00)] "
            "was greater than the threshold (0.0).\n- Timestamp:                  Tuesday 14 May, 2024 10:12:03 UTC\n"
            f"- AWS Account:                {a}\n- Alarm Arn:                  arn:aws:cloudwatch:{r}:{a}:alarm:{alarm}\n\n"
            "Threshold:\n- The alarm is in the ALARM state when the metric is GreaterThanThreshold 0.0 for at least "
            "1 of the last 1 period(s) of 60 seconds.\n\nMonitored Metric:\n"
            "- MetricNamespace:                     AWS/SQS\n"
            "- MetricName:                          ApproximateNumberOfMessagesVisible\n"
            f"- Dimensions:                          [QueueName = {q}]\n"
            "- Period:                              60 seconds\n- Statistic:                           Maximum\n"
            "- Unit:                                not specified\n- TreatMissingData:                    missing\n\n"
            f"State Change Actions:\n- OK: \n- ALARM: [arn:aws:sns:{r}:{a}:{topic}]\n- INSUFFICIENT_DATA: \n\n"
            "--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below "
            f"to unsubscribe:\nhttps://sns.{r}.amazonaws.com/unsubscribe.html?SubscriptionArn=arn:aws:sns:{r}:{a}:"
            f"{topic}:{sub}&Endpoint=ops@example.com\n")
    return text, [a, alarm, q, topic], ["ApproximateNumberOfMessagesVisible", "GreaterThanThreshold",
                                        "- TreatMissingData:                    missing"]


# IAM and governance
def _v12_simulate(g: Gen):
    a, role, b, pol = g.account(), g.name("pms"), g.bucket(), g.name(g.pick(["pms", "Camel"]))
    out = {"EvaluationResults": [
        {"EvalActionName": "s3:PutObject", "EvalResourceName": f"arn:aws:s3:::{b}/*", "EvalDecision": "explicitDeny",
         "MatchedStatements": [{"SourcePolicyId": pol, "SourcePolicyType": "IAM Policy",
                                "StartPosition": {"Line": 1, "Column": 162}, "EndPosition": {"Line": 1, "Column": 389}}],
         "MissingContextValues": [], "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
         "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": True}},
        {"EvalActionName": "s3:GetObject", "EvalResourceName": f"arn:aws:s3:::{b}/*", "EvalDecision": "allowed",
         "MatchedStatements": [{"SourcePolicyId": "AmazonS3ReadOnlyAccess", "SourcePolicyType": "IAM Policy",
                                "StartPosition": {"Line": 3, "Column": 17}, "EndPosition": {"Line": 8, "Column": 6}}],
         "MissingContextValues": []}]}
    text = (f"$ aws iam simulate-principal-policy --policy-source-arn arn:aws:iam::{a}:role/{role} "
            f"--action-names s3:PutObject s3:GetObject --resource-arns 'arn:aws:s3:::{b}/*'\n"
            + json.dumps(out, indent=4) + "\n")
    return text, [a, role, b, pol], ['"explicitDeny"', '"AmazonS3ReadOnlyAccess"', '"IAM Policy"', "s3:PutObject"]


def _v12_access_advisor(g: Gen):
    a, role, r = g.account(), g.name("pms"), g.region()
    job = _uuid(g)
    out = {"JobStatus": "COMPLETED", "JobType": "ACTION_LEVEL", "JobCreationDate": "2024-05-14T10:02:11.412000+00:00",
           "ServicesLastAccessed": [
               {"ServiceName": "Amazon S3", "LastAuthenticated": "2024-05-13T22:41:00+00:00", "ServiceNamespace": "s3",
                "LastAuthenticatedEntity": f"arn:aws:iam::{a}:role/{role}", "LastAuthenticatedRegion": r,
                "TotalAuthenticatedEntities": 1,
                "TrackedActionsLastAccessed": [{"ActionName": "GetObject",
                                                "LastAccessedEntity": f"arn:aws:iam::{a}:role/{role}",
                                                "LastAccessedTime": "2024-05-13T22:41:00+00:00",
                                                "LastAccessedRegion": r}]},
               {"ServiceName": "AWS Key Management Service", "ServiceNamespace": "kms", "TotalAuthenticatedEntities": 0}],
           "JobCompletionDate": "2024-05-14T10:02:13.108000+00:00", "IsTruncated": False}
    text = (f"$ aws iam generate-service-last-accessed-details --arn arn:aws:iam::{a}:role/{role} --granularity ACTION_LEVEL\n"
            f"{{\n    \"JobId\": \"{job}\"\n}}\n$ aws iam get-service-last-accessed-details --job-id {job}\n"
            + json.dumps(out, indent=4) + "\n")
    return text, [a, role], ['"AWS Key Management Service"', '"JobType": "ACTION_LEVEL"', job]


def _v12_config_agg(g: Gen):
    agg = g.name(g.pick(["pms", "ms"]))
    rows = []
    mask = [agg]
    for _ in range(2):
        a, r, db = g.account(), g.region(), g.name(g.pick(["pms", "ms", "msn"]))
        dbi = "db-" + g.alnum(26, _UPPER_ALNUM)
        mask += [a, db, dbi]
        rows.append(json.dumps({"accountId": a, "awsRegion": r, "resourceId": dbi, "resourceName": db,
                                "configuration": {"dBInstanceClass": "db.r6g.large"}}, separators=(",", ":")))
    out = {"Results": rows, "QueryInfo": {"SelectFields": [{"Name": "accountId"}, {"Name": "awsRegion"},
                                                            {"Name": "resourceId"}, {"Name": "resourceName"},
                                                            {"Name": "configuration.dBInstanceClass"}]}}
    text = (f"$ aws configservice select-aggregate-resource-config --configuration-aggregator-name {agg} "
            "--expression \"SELECT accountId, awsRegion, resourceId, resourceName, configuration.dBInstanceClass "
            "WHERE resourceType = 'AWS::RDS::DBInstance' AND configuration.publiclyAccessible = true\"\n"
            + json.dumps(out, indent=4) + "\n")
    return text, mask, ["db.r6g.large", "AWS::RDS::DBInstance", "configuration.publiclyAccessible"]


def _v12_trusted_advisor(g: Gen):
    rows, mask = [], []
    for _ in range(3):
        a, i, nm = g.account(), g.iid(), g.name(g.pick(["pms", "msn"]))
        az = g.region() + g.pick("abc")
        mask += [a, i, nm]
        days = ",".join(f"{g.r.randint(1, 9)}.{g.r.randint(0, 9)}%  {g.r.randint(0, 4)}.{g.r.randint(10, 99)}MB"
                        for _ in range(14))
        rows.append(f"{a},{az},{i},{nm},{g.pick(['t3.xlarge', 'm5.2xlarge', 'c5.large'])},"
                    f"${g.r.randint(20, 400)}.{g.r.randint(10, 99)},{days},{g.r.randint(1, 9)}.{g.r.randint(0, 9)}%,"
                    f"{g.r.randint(1, 4)}.{g.r.randint(10, 99)}MB,14 days")
    head = ("Account ID,Region/AZ,Instance ID,Instance Name,Instance Type,Estimated Monthly Savings,"
            + ",".join(f"Day {n}" for n in range(1, 15))
            + ",14-Day Average CPU Utilization,14-Day Average Network I/O,Number of Days Low Utilization")
    text = "Low Utilization Amazon EC2 Instances (organizational view report)\n" + head + "\n" + "\n".join(rows) + "\n"
    return text, mask, ["Low Utilization Amazon EC2 Instances", "14-Day Average CPU Utilization", "Number of Days Low Utilization"]


def _v12_compute_optimizer(g: Gen):
    rows, mask = [], []
    for _ in range(2):
        a, r, i, nm = g.account(), g.region(), g.iid(), g.name(g.pick(["pms", "msn"]))
        mask += [a, i, nm]
        rows.append(f"{a},arn:aws:ec2:{r}:{a}:instance/{i},{nm},Overprovisioned,true,false,false,m5.2xlarge,"
                    f"0.384,m7g.xlarge,USD,{g.r.randint(80, 180)}.{g.r.randint(10, 99)},0.1632,"
                    f"2024-05-14T06:12:{g.r.randint(10, 59)}Z")
    text = ("accountId,instanceArn,instanceName,finding,findingReasonCodes_isCpuOverprovisioned,"
            "findingReasonCodes_isMemoryUnderprovisioned,findingReasonCodes_isNetworkBandwidthOverprovisioned,"
            "currentInstanceType,currentOnDemandPrice,recommendationOptions_1_instanceType,"
            "recommendationOptions_1_estimatedMonthlySavings_currency,recommendationOptions_1_estimatedMonthlySavings_value,"
            "recommendationOptions_1_onDemandPrice,lastRefreshTimestamp_UTC\n" + "\n".join(rows) + "\n")
    return text, mask, ["Overprovisioned", "m7g.xlarge", "findingReasonCodes_isCpuOverprovisioned"]


def _v12_org_accounts(g: Gen):
    mgmt, o = g.account(), g.org()
    rows, mask = [], [mgmt, o]
    for n in range(3):
        a = mgmt if n == 0 else g.account()
        nm = g.name(g.pick(["pms", "ms"]))
        mask += [a, nm]
        meth = "INVITED" if n == 0 else "CREATED"
        rows.append([f"arn:aws:organizations::{mgmt}:account/{o}/{a}", f"aws+{nm}@example.com", a, meth,
                     f"2021-0{n + 3}-1{n}T09:1{n}:03.412000+00:00", nm, "ACTIVE", "ACTIVE"])
    text = ("$ aws organizations list-accounts --output table\n"
            + _v12_cli_table("ListAccounts", "Accounts",
                             ["Arn", "Email", "Id", "JoinedMethod", "JoinedTimestamp", "Name", "State", "Status"], rows)
            + "\n")
    return text, list(dict.fromkeys(mask)), ["INVITED", "CREATED", "JoinedTimestamp"]


def _v12_attached_policies(g: Gen):
    a, role, pol = g.account(), g.name("pms"), g.name(g.pick(["pms", "Camel"]))
    rows = [["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "AWSLambdaBasicExecutionRole"],
            ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "AmazonS3ReadOnlyAccess"],
            [f"arn:aws:iam::{a}:policy/{pol}", pol]]
    text = (f"$ aws iam list-attached-role-policies --role-name {role} --output table\n"
            + _v12_cli_table("ListAttachedRolePolicies", "AttachedPolicies", ["PolicyArn", "PolicyName"], rows) + "\n")
    return text, [a, role, pol], ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                  "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "ListAttachedRolePolicies"]


def _v12_asff(g: Gen):
    r, a, b = g.region(), g.account(), g.bucket()
    canon = g.alnum(64, _HEX)
    fid = _uuid(g)
    f = {"SchemaVersion": "2018-10-08",
         "Id": f"arn:aws:securityhub:{r}:{a}:security-control/S3.8/finding/{fid}",
         "ProductArn": f"arn:aws:securityhub:{r}::product/aws/securityhub",
         "ProductName": "Security Hub", "CompanyName": "AWS", "Region": r,
         "GeneratorId": "security-control/S3.8", "AwsAccountId": a,
         "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
         "FirstObservedAt": "2024-05-02T07:14:52.118Z", "UpdatedAt": "2024-05-14T07:15:03.904Z",
         "Severity": {"Label": "HIGH", "Normalized": 70, "Original": "HIGH"},
         "Title": "S3 general purpose buckets should block public access",
         "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::{b}", "Partition": "aws", "Region": r,
                        "Details": {"AwsS3Bucket": {"OwnerId": canon, "OwnerAccountId": a,
                                                    "CreatedAt": "2022-11-03T10:41:07.000Z"}}}],
         "Compliance": {"Status": "FAILED", "SecurityControlId": "S3.8",
                        "AssociatedStandards": [{"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"}]},
         "WorkflowState": "NEW", "Workflow": {"Status": "NEW"}, "RecordState": "ACTIVE",
         "FindingProviderFields": {"Severity": {"Label": "HIGH", "Original": "HIGH"},
                                   "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"]}}
    text = json.dumps({"Findings": [f]}, indent=4) + "\n"
    return text, [a, b, canon], [f"arn:aws:securityhub:{r}::product/aws/securityhub", '"AwsS3Bucket"',
                                 '"SchemaVersion": "2018-10-08"', "standards/aws-foundational-security-best-practices/v/1.0.0",
                                 fid]


def _v12_scp(g: Gen):
    r, a, o = g.region(), g.account(), g.org()
    vpce, vpce2 = g.hexid("vpce"), g.hexid("vpce")
    brk, fn = g.name("pms"), g.name(g.pick(["pms", "ms"]))
    ou = f"ou-{g.alnum(4)}-{g.alnum(8)}"
    pid = "p-" + g.alnum(8)
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyS3OutsideVpce", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": [vpce, vpce2]},
                       "ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{brk}"]},
                       "BoolIfExists": {"aws:ViaAWSService": "false"}}},
        {"Sid": "DenyOutsideOrg", "Effect": "Deny", "Action": ["s3:PutObject", "sqs:SendMessage"],
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceOrgID": o, "aws:PrincipalOrgID": o}}},
        {"Sid": "ProtectInvoke", "Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": "*",
         "Condition": {"ArnNotEquals": {"aws:SourceArn": f"arn:aws:lambda:{r}:{a}:function:{fn}"}}}]}
    text = ("$ cat scp-data-perimeter.json\n" + json.dumps(pol, indent=2) + "\n"
            f"$ aws organizations update-policy --policy-id {pid} --content file://scp-data-perimeter.json\n"
            f"$ aws organizations attach-policy --policy-id {pid} --target-id {ou}\n")
    return text, [vpce, vpce2, o, brk, a, fn, ou, pid], ["StringNotEqualsIfExists", '"aws:SourceVpce"',
                                                        '"aws:PrincipalOrgID"', '"aws:ViaAWSService": "false"']


# stack traces and errors
def _v12_java_v2(g: Gen):
    b, t, r = g.bucket(), g.name(g.pick(["pms", "Camel", "p_m_s"])), g.region()
    rid, ext = g.alnum(16, _V12_UPHEX), g.alnum(76, _B64)
    rid2 = g.alnum(52, _UPPER_ALNUM)
    text = (f"2024-05-14 10:12:03.118  INFO 1 --- [   scheduling-1] c.a.orders.ReportUploader  : uploading "
            f"s3://{b}/reports/2024-05-13.csv ({r})\n"
            "2024-05-14 10:12:03.402 ERROR 1 --- [   scheduling-1] o.s.s.s.TaskUtils$LoggingErrorHandler : "
            "Unexpected error occurred in scheduled task\n"
            "software.amazon.awssdk.services.s3.model.NoSuchBucketException: The specified bucket does not exist "
            f"(Service: S3, Status Code: 404, Request ID: {rid}, Extended Request ID: {ext})\n"
            "\tat software.amazon.awssdk.services.s3.model.NoSuchBucketException$BuilderImpl.build(NoSuchBucketException.java:104)\n"
            "\tat software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(CombinedResponseHandler.java:125)\n"
            "\tat software.amazon.awssdk.services.s3.DefaultS3Client.putObject(DefaultS3Client.java:10628)\n"
            "\tat com.acme.orders.ReportUploader.upload(ReportUploader.java:57)\n"
            "\t... 9 common frames omitted\n"
            "Caused by: software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException: Requested resource "
            f"not found: Table: {t} not found (Service: DynamoDb, Status Code: 400, Request ID: {rid2})\n"
            "\tat software.amazon.awssdk.services.dynamodb.DefaultDynamoDbClient.getItem(DefaultDynamoDbClient.java:4511)\n"
            "\tat com.acme.orders.ReportState.lastRun(ReportState.java:31)\n")
    return text, [b, t], ["NoSuchBucketException", "(Service: S3, Status Code: 404", rid, "DefaultS3Client.java:10628"]


def _v12_node_v3(g: Gen):
    r, a, role, fn, q = g.region(), g.account(), g.name("pms"), g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "msn"]))
    rid = _uuid(g)
    text = (f"2024-05-14T10:12:03.118Z\t{_uuid(g)}\tERROR\tsend failed AccessDenied: User: "
            f"arn:aws:sts::{a}:assumed-role/{role}/{fn} is not authorized to perform: sqs:sendmessage on resource: "
            f"arn:aws:sqs:{r}:{a}:{q} because no identity-based policy allows the sqs:sendmessage action\n"
            "    at throwDefaultError (/var/runtime/node_modules/@aws-sdk/node_modules/@smithy/smithy-client/dist-cjs/index.js:838:20)\n"
            "    at /var/runtime/node_modules/@aws-sdk/node_modules/@smithy/smithy-client/dist-cjs/index.js:847:5\n"
            "    at de_CommandError (/var/runtime/node_modules/@aws-sdk/client-sqs/dist-cjs/index.js:1192:14)\n"
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
            "    at async /var/task/index.mjs:41:5 {\n"
            "  '$fault': 'client',\n  '$metadata': {\n    httpStatusCode: 403,\n"
            f"    requestId: '{rid}',\n    extendedRequestId: undefined,\n    cfId: undefined,\n    attempts: 1,\n"
            "    totalRetryDelay: 0\n  },\n  __type: 'com.amazon.coral.access#AccessDeniedException',\n"
            "  Code: 'AccessDenied',\n  Type: 'Sender'\n}\n")
    return text, [a, role, fn, q], ["'$fault': 'client'", "httpStatusCode: 403",
                                    "__type: 'com.amazon.coral.access#AccessDeniedException'", rid]


def _v12_botocore_tb(g: Gen):
    a, role, b, i = g.account(), g.name("pms"), g.bucket(), g.iid()
    text = ("Traceback (most recent call last):\n"
            "  File \"/home/ec2-user/jobs/export.py\", line 41, in <module>\n"
            "    s3.put_object(Bucket=BUCKET, Key=key, Body=data)\n"
            "  File \"/usr/local/lib/python3.11/site-packages/botocore/client.py\", line 565, in _api_call\n"
            "    return self._make_api_call(operation_name, kwargs)\n"
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            "  File \"/usr/local/lib/python3.11/site-packages/botocore/client.py\", line 1021, in _make_api_call\n"
            "    raise error_class(parsed_response, operation_name)\n"
            "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: "
            f"User: arn:aws:sts::{a}:assumed-role/{role}/{i} is not authorized to perform: s3:PutObject on resource: "
            f"\"arn:aws:s3:::{b}/exports/2024-05-14.parquet\" with an explicit deny in a service control policy\n")
    return text, [a, role, b, i], ["botocore.exceptions.ClientError", "when calling the PutObject operation",
                                   "with an explicit deny in a service control policy"]


def _v12_botocore_secret(g: Gen):
    r, a, sec = g.region(), g.account(), f"{g.pick(['prod', 'staging'])}/{g.name('ms')}/db"
    text = (">>> import boto3\n"
            f">>> sm = boto3.client(\"secretsmanager\", region_name=\"{r}\")\n"
            f">>> sm.get_secret_value(SecretId=\"{sec}\")\n"
            "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n"
            "  File \"/opt/venv/lib/python3.12/site-packages/botocore/client.py\", line 569, in _api_call\n"
            "    return self._make_api_call(operation_name, kwargs)\n"
            "  File \"/opt/venv/lib/python3.12/site-packages/botocore/client.py\", line 1023, in _make_api_call\n"
            "    raise error_class(parsed_response, operation_name)\n"
            "botocore.errorfactory.ResourceNotFoundException: An error occurred (ResourceNotFoundException) when "
            "calling the GetSecretValue operation: Secrets Manager can't find the specified secret.\n"
            f">>> boto3.client(\"sts\").get_caller_identity()[\"Account\"]\n'{a}'\n")
    return text, [sec, a], ["botocore.errorfactory.ResourceNotFoundException", "GetSecretValue",
                            "Secrets Manager can't find the specified secret."]


def _v12_go_v2(g: Gen):
    t, a, a2, role = g.name(g.pick(["pms", "p_m_s"])), g.account(), g.account(), g.name("pms")
    rid = g.alnum(52, _UPPER_ALNUM)
    text = (f"2024/05/14 10:12:03 put order into {t}: operation error DynamoDB: PutItem, https response error "
            f"StatusCode: 400, RequestID: {rid}, ResourceNotFoundException: Requested resource not found\n"
            "2024/05/14 10:12:04 assume role: operation error STS: AssumeRole, https response error StatusCode: 403, "
            f"RequestID: {_uuid(g)}, api error AccessDenied: User: arn:aws:sts::{a}:assumed-role/{role}/"
            f"aws-go-sdk-1715681524118 is not authorized to perform: sts:AssumeRole on resource: "
            f"arn:aws:iam::{a2}:role/{role}\nexit status 1\n")
    return text, [t, a, a2, role], ["operation error DynamoDB: PutItem", "StatusCode: 400", rid,
                                    "aws-go-sdk-1715681524118"]


def _v12_dotnet(g: Gen):
    b, b2 = g.bucket(), g.bucket()
    rid, id2 = g.alnum(16, _V12_UPHEX), g.alnum(76, _B64)
    text = ("fail: Orders.Worker.ArchiveService[0]\n"
            f"      Failed to copy s3://{b}/incoming/2024-05-14/batch-17.json to s3://{b2}/archive/\n"
            "      Amazon.S3.AmazonS3Exception: Access Denied\n"
            "       ---> Amazon.Runtime.Internal.HttpErrorResponseException: Exception of type "
            "'Amazon.Runtime.Internal.HttpErrorResponseException' was thrown.\n"
            "         at Amazon.Runtime.HttpWebRequestMessage.ProcessHttpResponseMessage(HttpResponseMessage responseMessage)\n"
            "         at Amazon.Runtime.HttpWebRequestMessage.GetResponseAsync(CancellationToken cancellationToken)\n"
            "         --- End of inner exception stack trace ---\n"
            "         at Amazon.Runtime.Internal.HttpErrorResponseExceptionHandler.HandleExceptionStream(IRequestContext "
            "requestContext, IWebResponseData httpErrorResponse, HttpErrorResponseException exception, Stream responseStream)\n"
            "         at Amazon.Runtime.Internal.ErrorHandler.InvokeAsync[T](IExecutionContext executionContext)\n"
            "         at Orders.Worker.ArchiveService.ArchiveAsync(String key) in /src/Orders.Worker/ArchiveService.cs:line 48\n"
            f"      ErrorCode: AccessDenied, ErrorType: Sender, StatusCode: Forbidden, RequestId: {rid}, AmazonId2: {id2}\n")
    return text, [b, b2], ["Amazon.S3.AmazonS3Exception: Access Denied", "HttpErrorResponseException",
                           "ArchiveService.cs:line 48", rid]


# shell and dev environment
def _v12_envrc(g: Gen):
    r, a, t, b, bus = g.region(), g.account(), g.name("p_m_s"), g.bucket(), g.name(g.pick(["pms", "ms"]))
    db, cid = _v12_rds(g, r)
    text = ("# .envrc (direnv)\nexport AWS_PROFILE=orders-dev\n"
            f"export AWS_REGION={r}\nexport ORDERS_TABLE={t}\nexport ASSETS_BUCKET={b}\n"
            f"export EVENT_BUS_ARN=arn:aws:events:{r}:{a}:event-bus/{bus}\n"
            f"export DATABASE_URL=postgres://app@{db}.{cid}.{r}.rds.amazonaws.com:5432/orders\n"
            "dotenv_if_exists .env.local\n\n$ cd ~/src/orders\ndirenv: loading ~/src/orders/.envrc\n"
            "direnv: export +ASSETS_BUCKET +AWS_PROFILE +AWS_REGION +DATABASE_URL +EVENT_BUS_ARN +ORDERS_TABLE\n")
    return text, [a, t, b, bus, db, cid], ["dotenv_if_exists .env.local", "direnv: loading ~/src/orders/.envrc",
                                           "+ASSETS_BUCKET +AWS_PROFILE"]


def _v12_op(g: Gen):
    ak, sk, r = g.akid(), g.secret(), g.region()
    text = ("$ cat .env.tpl\n"
            "AWS_ACCESS_KEY_ID=\"op://Engineering/ci-deploy-user/access key id\"\n"
            "AWS_SECRET_ACCESS_KEY=\"op://Engineering/ci-deploy-user/secret access key\"\n"
            f"AWS_DEFAULT_REGION={r}\n"
            "$ op read \"op://Engineering/ci-deploy-user/access key id\"\n"
            f"{ak}\n$ op inject -i .env.tpl -o .env && cat .env\n"
            f"AWS_ACCESS_KEY_ID=\"{ak}\"\nAWS_SECRET_ACCESS_KEY=\"{sk}\"\nAWS_DEFAULT_REGION={r}\n")
    return text, [ak, sk], ["op://Engineering/ci-deploy-user/access key id", f"AWS_DEFAULT_REGION={r}",
                            "op inject -i .env.tpl -o .env"]


def _v12_chamber(g: Gen):
    r, a, role, q = g.region(), g.account(), g.name("pms"), g.name(g.pick(["pms", "msn"]))
    db, cid = _v12_rds(g, r)
    svc = g.name("ms")
    arn = f"arn:aws:sts::{a}:assumed-role/{role}/{g.person()}"
    text = (f"$ chamber list {svc}\nKey\t\tVersion\t\tLastModified\t\tUser\n"
            f"db_host\t\t2\t\t05-02 14:11:52\t\t{arn}\n"
            f"db_password\t\t3\t\t05-14 09:12:31\t\t{arn}\n"
            f"queue_url\t\t1\t\t03-21 17:40:08\t\t{arn}\n"
            f"$ chamber export --format dotenv {svc}\n"
            f"DB_HOST=\"{db}.{cid}.{r}.rds.amazonaws.com\"\nDB_PASSWORD=\"{g.alnum(24, _B64[:62])}\"\n"
            f"QUEUE_URL=\"https://sqs.{r}.amazonaws.com/{a}/{q}\"\n")
    return text, [a, role, db, cid, q], ["Key\t\tVersion\t\tLastModified\t\tUser", "chamber export --format dotenv"]


def _v12_doppler(g: Gen):
    ak, sk, b, fn = g.akid(), g.secret(), g.bucket(), g.name(g.pick(["pms", "ms"]))
    rows = [("AWS_ACCESS_KEY_ID", ak), ("AWS_SECRET_ACCESS_KEY", sk), ("DOPPLER_CONFIG", "prd"),
            ("DOPPLER_ENVIRONMENT", "prd"), ("DOPPLER_PROJECT", "orders-api"), ("S3_BUCKET", b),
            ("WORKER_FUNCTION", fn)]
    kw, vw = max(len(k) for k, _ in rows) + 2, max(len(v) for _, v in rows) + 2
    out = ["┌" + "─" * kw + "┬" + "─" * vw + "┐", "│ " + "NAME".ljust(kw - 1) + "│ " + "VALUE".ljust(vw - 1) + "│",
           "├" + "─" * kw + "┼" + "─" * vw + "┤"]
    out += ["│ " + k.ljust(kw - 1) + "│ " + v.ljust(vw - 1) + "│" for k, v in rows]
    out.append("└" + "─" * kw + "┴" + "─" * vw + "┘")
    text = "$ doppler secrets --project orders-api --config prd\n" + "\n".join(out) + "\n"
    return text, [ak, sk, b, fn], ["DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT", "--config prd"]


def _v12_makefile(g: Gen):
    r, a, stack, b = g.region(), g.account(), g.name("Camel"), g.bucket()
    fn, cl, repo = g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "ms"])), g.name("ms")
    text = (f"STACK      ?= {stack}\nBUCKET     := {b}\nFUNCTION   := {fn}\nCLUSTER    := {cl}\n"
            f"ACCOUNT_ID := {a}\nREGION     := {r}\nECR        := $(ACCOUNT_ID).dkr.ecr.$(REGION).amazonaws.com\n"
            "GIT_SHA    := $(shell git rev-parse --short HEAD)\n\n.PHONY: package deploy image\n\n"
            "package:\n\tsam build && sam package --s3-bucket $(BUCKET) --output-template-file packaged.yaml\n\n"
            "deploy: package\n\taws cloudformation deploy --stack-name $(STACK) --template-file packaged.yaml "
            "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND\n"
            "\taws lambda update-function-code --function-name $(FUNCTION) --s3-bucket $(BUCKET) --s3-key build/$(GIT_SHA).zip\n"
            f"\taws ecs update-service --cluster $(CLUSTER) --service web --force-new-deployment\n\n"
            f"image:\n\taws ecr get-login-password --region $(REGION) | docker login --username AWS --password-stdin $(ECR)\n"
            f"\tdocker build -t $(ECR)/{repo}:$(GIT_SHA) . && docker push $(ECR)/{repo}:$(GIT_SHA)\n")
    return text, [a, stack, b, fn, cl, repo], ["CAPABILITY_IAM CAPABILITY_AUTO_EXPAND", "--force-new-deployment",
                                               "$(ACCOUNT_ID).dkr.ecr.$(REGION).amazonaws.com"]


def _v12_justfile(g: Gen):
    r, b, fn = g.region(), g.bucket(), g.name(g.pick(["pms", "ms"]))
    dist = "E" + g.alnum(13, _UPPER_ALNUM)
    text = ("set dotenv-load\n\n"
            f"region := \"{r}\"\nbucket := \"{b}\"\ndistribution := \"{dist}\"\n\n"
            "deploy-web: build\n"
            "    aws s3 sync dist/ s3://{{bucket}}/ --delete --cache-control \"public,max-age=31536000,immutable\"\n"
            "    aws cloudfront create-invalidation --distribution-id {{distribution}} --paths \"/*\"\n\n"
            f"logs fn=\"{fn}\":\n    aws logs tail /aws/lambda/{{{{fn}}}} --follow --since 10m --region {{{{region}}}}\n")
    return text, [b, dist, fn], ["s3://{{bucket}}/ --delete", "/aws/lambda/{{fn}}", "public,max-age=31536000,immutable"]


def _v12_sso_login(g: Gen):
    r, a, perm = g.region(), g.account(), g.name("Camel")
    d = "d-" + g.alnum(10, "0123456789abcdef")
    cid = g.alnum(22, _V12_B64URL)
    text = ("$ cat ~/.aws/config\n[sso-session corp]\n"
            f"sso_start_url = https://{d}.awsapps.com/start\nsso_region = {r}\n"
            "sso_registration_scopes = sso:account:access\n\n[profile orders-prod]\nsso_session = corp\n"
            f"sso_account_id = {a}\nsso_role_name = {perm}\nregion = {r}\n\n"
            "$ aws sso login --profile orders-prod\n"
            "Attempting to automatically open the SSO authorization page in your default browser.\n"
            "If the browser does not open or you wish to use a different device to authorize this request, open "
            "the following URL:\n\n"
            f"https://oidc.{r}.amazonaws.com/authorize?response_type=code&client_id={cid}&redirect_uri=http%3A%2F%2F"
            f"127.0.0.1%3A{g.r.randint(40000, 60000)}%2Foauth%2Fcallback&state={_uuid(g)}&code_challenge_method=S256"
            f"&scopes=sso%3Aaccount%3Aaccess&code_challenge={g.alnum(43, _V12_B64URL)}\n"
            f"Successfully logged into Start URL: https://{d}.awsapps.com/start\n")
    return text, [d, a, perm], ["sso_registration_scopes = sso:account:access", "code_challenge_method=S256",
                                f"https://oidc.{r}.amazonaws.com/authorize"]


def _v12_export_ps(g: Gen):
    ak, sk, tok = _asia(g), g.secret(), _session_token(g)
    text = ("PS C:\\src\\orders> aws configure export-credentials --profile orders-prod --format powershell\n"
            f"$Env:AWS_ACCESS_KEY_ID=\"{ak}\"\n$Env:AWS_SECRET_ACCESS_KEY=\"{sk}\"\n"
            f"$Env:AWS_SESSION_TOKEN=\"{tok}\"\n$Env:AWS_CREDENTIAL_EXPIRATION=\"2024-05-14T18:12:03+00:00\"\n"
            "PS C:\\src\\orders> aws configure export-credentials --profile orders-prod --format windows-cmd\n"
            f"set AWS_ACCESS_KEY_ID={ak}\nset AWS_SECRET_ACCESS_KEY={sk}\nset AWS_SESSION_TOKEN={tok}\n"
            "set AWS_CREDENTIAL_EXPIRATION=2024-05-14T18:12:03+00:00\n")
    return text, [ak, sk, tok], ["2024-05-14T18:12:03+00:00", "--format windows-cmd", "$Env:AWS_CREDENTIAL_EXPIRATION"]


# prose: code-switching, Traditional Chinese, GitHub issue, Jira
def _v12_de(g: Gen):
    a, fn, q, stream = g.account(), g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "msn"])), g.name("ms")
    text = (f"@here kurze Frage: die Lambda `{fn}` in Account {a} wirft seit 14:02 Throttling, reserved "
            f"concurrency ist auf 50. Ich hab die DLQ {q} gecheckt, da liegen ~3k messages. Can someone with prod "
            f"access look at the alarm? Ich vermute, es liegt am Kinesis stream {stream}, der seit dem Deploy "
            "doppelt so viele records schickt.")
    return text, [a, fn, q, stream], ["reserved concurrency", "14:02"]


def _v12_es(g: Gen):
    a, b, role, vpce = g.account(), g.bucket(), g.name("pms"), g.hexid("vpce")
    text = (f"oye, el bucket {b} está devolviendo 403 desde que aplicamos la SCP nueva. El rol {role} en la cuenta "
            f"{a} ya tiene s3:GetObject, pero igual falla. I checked CloudTrail y el errorCode es AccessDenied, "
            f"viene por el endpoint {vpce}. ¿Alguien sabe si la condición aws:SourceVpce está bien?")
    return text, [b, role, a, vpce], ["s3:GetObject", "AccessDenied", "aws:SourceVpce"]


def _v12_hi(g: Gen):
    a, db, db2, pg = g.account(), g.name("pms"), g.name("msn"), g.name("pms")
    text = (f"bhai, RDS instance {db} ka CPU 95% pe hai, aur read replica {db2} mein lag aa raha hai. Account {a} "
            f"mein maine kal raat parameter group {pg} change kiya tha (work_mem badhaya), shayad wahi issue hai. "
            "Rollback kar du ya pehle Performance Insights dekh lein?")
    return text, [a, db, db2, pg], ["95%", "work_mem", "Performance Insights"]


def _v12_zh(g: Gen):
    a, r, c, ng, asg = g.account(), g.region(), g.name(g.pick(["pms", "ms"])), g.name("ms"), g.name("pmsn")
    text = (f"紧急：prod 的 EKS 集群 {c} 里 node group {ng} 全部 NotReady 了，账号 {a}，区域 {r}。我看了一下 ASG "
            f"{asg} 的 activity history，说是 InsufficientInstanceCapacity (m6i.2xlarge)，要不要先切到 m6a？")
    return text, [a, c, ng, asg], ["InsufficientInstanceCapacity", "m6i.2xlarge", "NotReady"]


def _v12_zh_tw(g: Gen):
    a, b, i, sg, t, role = g.account(), g.bucket(), g.iid(), g.hexid("sg"), g.name("Camel"), g.name("pms")
    text = (f"帳戶 ID：{a}\n區域：亞太區域 (香港) ap-east-1\n儲存貯體名稱：{b}\n執行個體 ID：{i}\n"
            f"安全群組：{sg}\nDynamoDB 資料表：{t}\nIAM 角色：{role}\n執行個體類型：c6g.large\n")
    return text, [a, b, i, sg, t, role], ["ap-east-1", "c6g.large", "亞太區域 (香港)"]


def _v12_zh_hk(g: Gen):
    a, fn, t, role = g.account(), g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "Camel"])), g.name("pms")
    text = (f"唔該幫手睇下，我哋喺賬戶 {a} 嘅 Lambda 函數 {fn} 一直 timeout（15 分鐘），佢要讀 DynamoDB 資料表 {t}，"
            f"IAM 角色係 {role}。CloudWatch 見到 ProvisionedThroughputExceededException，係咪要轉 on-demand？")
    return text, [a, fn, t, role], ["ProvisionedThroughputExceededException", "on-demand"]


def _v12_gh_issue(g: Gen):
    r, a, cl, svc = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms")
    tg, tgh = g.name("ms")[:20], g.alnum(16, _HEX)
    out = {"services": [{"serviceArn": f"arn:aws:ecs:{r}:{a}:service/{cl}/{svc}", "serviceName": svc,
                         "clusterArn": f"arn:aws:ecs:{r}:{a}:cluster/{cl}",
                         "loadBalancers": [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{tgh}",
                                            "containerName": "web", "containerPort": 8080}],
                         "status": "ACTIVE", "desiredCount": 2, "runningCount": 0, "launchType": "FARGATE",
                         "events": [{"message": f"(service {svc}) was unable to place a task because no container "
                                                "instance met all of its requirements."}]}]}
    text = ("### Describe the bug\n\n`terraform apply` succeeds but the service never reaches a steady state.\n\n"
            "<details>\n<summary><code>aws ecs describe-services</code> output</summary>\n\n```json\n"
            + json.dumps(out, indent=4) + "\n```\n\n</details>\n\n"
            "### Environment\n\n- Terraform v1.8.3\n- provider registry.terraform.io/hashicorp/aws v5.49.0\n")
    return text, [a, cl, svc, tg, tgh], ['"launchType": "FARGATE"', "v5.49.0", "<summary><code>aws ecs describe-services</code> output</summary>"]


def _v12_jira(g: Gen):
    r, a, role, stream = g.region(), g.account(), g.name("pms"), g.name(g.pick(["pms", "ms"]))
    text = ("h3. Steps to reproduce\n"
            f"# Assume the role {{code}}arn:aws:iam::{a}:role/{role}{{code}}\n# Run the export job\n\n"
            "{noformat}\n"
            f"2024-05-14 10:12:03 ERROR kinesis: PutRecords failed for stream arn:aws:kinesis:{r}:{a}:stream/{stream}: "
            "ProvisionedThroughputExceededException (2 of 500 records)\n{noformat}\n\n"
            "*Expected:* records land in the stream.\n\n{code:json}\n"
            f"{{\"StreamName\": \"{stream}\", \"ShardId\": \"shardId-000000000003\", \"ErrorCode\": "
            "\"ProvisionedThroughputExceededException\"}\n{code}\n")
    return text, [a, role, stream], ["ProvisionedThroughputExceededException", "shardId-000000000003", "{noformat}",
                                     "{code:json}"]


# negatives
def _v12_neg_public_dns(g: Gen):
    r = g.region()
    text = (f"$ dig +short s3.{r}.amazonaws.com\ns3-r-w.{r}.amazonaws.com.\n{_v12_pub_ip(g)}\n"
            f"$ nslookup sts.{r}.amazonaws.com\nServer:\t\t127.0.0.53\nAddress:\t127.0.0.53#53\n\n"
            f"Non-authoritative answer:\nName:\tsts.{r}.amazonaws.com\nAddress: {_v12_pub_ip(g)}\n"
            f"$ curl -sI https://s3.{r}.amazonaws.com | grep -i -E 'server|x-amz-bucket-region'\n"
            f"x-amz-bucket-region: {r}\nServer: AmazonS3\n")
    return text, [], [f"s3-r-w.{r}.amazonaws.com.", f"sts.{r}.amazonaws.com", f"x-amz-bucket-region: {r}",
                      "Server: AmazonS3"]


def _v12_neg_sdk_retry(g: Gen):
    r, rid = g.region(), _uuid(g)
    inv = _uuid(g)
    text = ("DEBUG software.amazon.awssdk.request - Sending Request: DefaultSdkHttpFullRequest(httpMethod=POST, "
            f"protocol=https, host=sqs.{r}.amazonaws.com, encodedPath=/, headers=[amz-sdk-invocation-id, "
            "Content-Type, User-Agent, X-Amz-Target], queryParameters=[])\n"
            f"DEBUG software.amazon.awssdk.request - Received error response: "
            f"software.amazon.awssdk.services.sqs.model.SqsException: Rate exceeded (Service: Sqs, Status Code: 400, "
            f"Request ID: {rid})\n"
            "DEBUG software.amazon.awssdk.core.internal.retry.RetryPolicyAdapter - Retryable error detected. "
            f"Will retry in 412ms. Request attempt number 2 (amz-sdk-invocation-id: {inv})\n")
    return text, [], [f"host=sqs.{r}.amazonaws.com", rid, inv, "RetryPolicyAdapter"]


VARIANTS_12: list[Template] = [
    # network and HTTP: curl -v API Gateway, curl -i a function URL, curl -I S3, dig ALB, dig ElastiCache, nslookup
    # Aurora, traceroute, mtr, nc -zv, ~/.ssh/config with SSM, ssh -v, openssl s_client (#0-#11)
    _v12_curl_apigw, _v12_curl_lambda_url, _v12_curl_s3_head, _v12_dig_alb, _v12_dig_elasticache, _v12_nslookup_rds,
    _v12_traceroute, _v12_mtr, _v12_nc, _v12_ssh_config, _v12_ssh_v, _v12_openssl,
    # database clients: psql on Aurora, an IAM auth token, mysql on an Aurora reader, redis-cli, OpenSearch,
    # DynamoDB PartiQL, Athena CSV, Redshift query editor CSV (#12-#19)
    _v12_psql, _v12_psql_iam, _v12_mysql, _v12_redis, _v12_opensearch, _v12_partiql, _v12_athena_csv,
    _v12_redshift_csv,
    # observability: X-Ray, OpenTelemetry collector, CloudWatch agent, Prometheus ec2_sd, Fluent Bit (#20-#24)
    _v12_xray, _v12_otel, _v12_cwagent, _v12_prometheus, _v12_fluentbit,
    # messaging: SES bounce via SNS, SES complaint event, SES mail headers, Slack export, Teams card, alarm email
    # (#25-#30)
    _v12_ses_bounce, _v12_ses_complaint, _v12_ses_headers, _v12_slack_export, _v12_teams_card, _v12_alarm_email,
    # IAM and governance: simulate-principal-policy, access advisor, Config aggregator, Trusted Advisor CSV,
    # Compute Optimizer CSV, list-accounts table, list-attached-role-policies table, ASFF, SCP (#31-#39)
    _v12_simulate, _v12_access_advisor, _v12_config_agg, _v12_trusted_advisor, _v12_compute_optimizer,
    _v12_org_accounts, _v12_attached_policies, _v12_asff, _v12_scp,
    # stack traces and errors: Java SDK v2, Node.js SDK v3, botocore AccessDenied, botocore in a REPL, Go SDK v2,
    # .NET (#40-#45)
    _v12_java_v2, _v12_node_v3, _v12_botocore_tb, _v12_botocore_secret, _v12_go_v2, _v12_dotnet,
    # shell and dev environment: .envrc, 1Password, chamber, Doppler, Makefile, justfile, sso login, export-credentials
    # for PowerShell and cmd (#46-#53)
    _v12_envrc, _v12_op, _v12_chamber, _v12_doppler, _v12_makefile, _v12_justfile, _v12_sso_login, _v12_export_ps,
    # prose: German, Spanish, Hinglish, Chinese code-switching; Taiwan labels, Hong Kong Cantonese; GitHub issue
    # <details>; Jira {code} / {noformat} (#54-#61)
    _v12_de, _v12_es, _v12_hi, _v12_zh, _v12_zh_tw, _v12_zh_hk, _v12_gh_issue, _v12_jira,
    # negatives (#62-#63)
    _v12_neg_public_dns, _v12_neg_sdk_retry,
]


# --- variants-13: a thirteenth held-out list (session 12), written by a helper that never read the engine, its
# packs or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here.
# Orchestration and events (Step Functions get-execution-history, a Distributed Map ASL with ItemReader /
# ResultWriter, EventBridge describe-rule and list-targets-by-rule, a Pipe, a Scheduler schedule for an ECS task,
# AppConfig through its Lambda extension and the CLI, SSM Run Command and Automation); SSM and containers (a Session
# Manager transcript reading IMDS, get-parameters-by-path --with-decryption, ECS Exec, Batch queues and jobs); data
# and streaming (a Firehose processing-failed record, EMR Serverless get-job-run, MSK IAM bootstrap brokers and
# client.properties, a Glue crawler log); operations (a Backup plan and job, Service Quotas history, the EC2
# retirement email, Auto Scaling activities, describe-target-health as a table, ACM DNS validation, a CloudFront
# invalidation, a Route 53 alias change batch, an RDS event through SNS, a Synthetics canary log); security (a WAF
# log line, a Network Firewall alert, a Route 53 Resolver query log, a Security Hub custom action and its rule,
# GuardDuty Malware Protection for S3, Reachability Analyzer, RAM); organisations and billing (an AFT account
# request, the Budgets email, a Cost Anomaly Detection alert); hosts (get-console-output with cloud-init, ecs.config
# user data, an AL2023 nodeadm NodeConfig, the EC2Launch v2 log, a PowerShell transcript on EC2, ansible-playbook
# output, ohai ec2); delivery, dashboards, wiki, git (Flux OCI sources on ECR, a Datadog dashboard, NRQL, a
# Confluence wiki-markup runbook, git log messages); code (R paws, get-caller-identity across profiles as YAML);
# prose and chat (Brazilian Portuguese, Québec French, a Japanese 【】 ticket, Korean, Vietnamese, Indonesian,
# Norwegian, Tamil); six negative-only templates (kubectl on a local cluster with pod hashes, digests and a SHA,
# the documentation placeholders, a pricing table, dependency pins, an app log with UUIDs and traceparent,
# AWS-managed names); 64 templates. Two must-keep labels were dropped before this measurement as customer-chosen
# names (an SSM parameter path, which also sits in its ARN; a Security Hub custom action ID). Kept as written,
# unfixed. Measured as it came out (report seed 13, 5 per template): 84.9 % recall (text and JSON alike), 50.0 %
# pass, 84.4 % kept, 32 failing templates (22 leak a value only, #0 #16 #18 #21 #23 #24 #59 #61 only change a
# must-keep value, #26 and #27 both); seed 7 (1 per template): 84.8 % (201 of 237), 50.0 % pass, 54 of 64 must-keep
# cases kept, the same 32 templates. The misses: names and IDs in tool output and logs (the AppConfig application
# name in the extension's localhost:2772 path #5, the role name IMDS returns in a Session Manager transcript #8, a
# secret key as a SecureString parameter value #9, the ECS task ID after --task and in 169.254.170.2 URIs #10, a
# Firehose stream name in its error-object key #12, a snake_case Glue database in crawler log lines #15, a canary
# name in its cw-syn-results path #25, the ALB name and ID in WAF's httpSourceId #26, the account and firewall name
# in a Network Firewall log path and firewall_name #27, an account after an OU ID in list-principals text #32,
# the AFT AccountName #33, a budget name in the Budgets email and its console link #34, the EKS cluster name in a
# NodeConfig and bootstrap.sh #38, a chart name in a comment #43, a Datadog template variable's default account
# #44, a function inside an NRQL LIKE pattern #45, an account and a queue in commit subjects #47); names in prose
# (Portuguese #50, French #51, Japanese 「」 and a target group ID #52, Korean #53, Vietnamese #54, Norwegian #56,
# Tamil #57). Must-keep values changed: a Step Functions state name #0, the AWSBackupDefaultServiceRole name #16,
# the Health event type code inside its event ARN #18, example.org / .com / .net domains in ACM validation records
# #21 and a Route 53 record name #23, the SNS Endpoint e-mail #24, documentation IPs (203.0.113.0/24,
# 198.51.100.0/24) #26 #27, the AWS documentation placeholders (AKIAIOSFODNN7EXAMPLE, its secret, 123456789012,
# i-1234567890abcdef0) #59, the Maven groupId software.amazon.awssdk #61.
# Never tuned to. ---------------------------------------------------------------------------------------------
_V13_ELB_ZONE = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-2": "Z1H1FL5HABSF5",
                 "eu-west-1": "Z32O12XQLNTSW2", "eu-central-1": "Z215JYRZR1TBD5", "ap-southeast-2": "Z1GM3OXH4ZPM65",
                 "ap-northeast-1": "Z14GRHDCWA56QT", "sa-east-1": "Z2P70J7HTTTPLU", "ca-central-1": "ZQSVJUPU6J1EY",
                 "eu-north-1": "Z23TAZ7LKNEVSX"}
_V13_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _v13_ts(g: Gen, frac: bool = False) -> str:
    s = f"2024-05-{g.r.randint(10, 28)}T{g.r.randint(10, 23)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}"
    return s + (f".{g.r.randint(100, 999)}Z" if frac else "Z")


def _v13_epoch(g: Gen) -> float:
    return round(1715680000 + g.r.randint(0, 900000) + g.r.random(), 3)


def _v13_lb(g: Gen):
    """(name, 16-hex id) of an ELBv2 load balancer or target group (names at most 32 characters)."""
    return g.name(g.pick(["pms", "ms", "msn"]))[:28].rstrip("-_"), g.alnum(16, _HEX)


# orchestration and events
def _v13_sfn_history(g: Gen):
    r, a, sm, fn, b, role = g.region(), g.account(), g.name("Camel"), g.name(g.pick(["pms", "ms"])), g.bucket(), g.name("pms")
    ex = _uuid(g)
    inp = json.dumps({"orderId": "A-20240514-0042", "invoiceBucket": b, "amount": 129.9})
    events = [
        {"timestamp": "2024-05-14T10:12:03.118000+00:00", "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
         "executionStartedEventDetails": {"input": inp, "inputDetails": {"truncated": False},
                                          "roleArn": f"arn:aws:iam::{a}:role/service-role/{role}"}},
        {"timestamp": "2024-05-14T10:12:03.164000+00:00", "type": "TaskStateEntered", "id": 2, "previousEventId": 1,
         "stateEnteredEventDetails": {"name": "ChargeCard", "input": inp}},
        {"timestamp": "2024-05-14T10:12:03.164000+00:00", "type": "LambdaFunctionScheduled", "id": 3,
         "previousEventId": 2, "lambdaFunctionScheduledEventDetails": {
             "resource": f"arn:aws:lambda:{r}:{a}:function:{fn}", "input": inp, "timeoutInSeconds": 30}},
        {"timestamp": "2024-05-14T10:12:04.902000+00:00", "type": "LambdaFunctionFailed", "id": 4, "previousEventId": 3,
         "lambdaFunctionFailedEventDetails": {"error": "Lambda.AWSLambdaException",
                                              "cause": "Rate Exceeded. (Service: Lambda, Status Code: 429)"}},
    ]
    text = (f"$ aws stepfunctions get-execution-history --execution-arn "
            f"arn:aws:states:{r}:{a}:execution:{sm}:{ex} --max-items 4\n"
            + json.dumps({"events": events, "NextToken": "eyJuZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiA0fQ=="}, indent=4)
            + "\n")
    return text, [a, sm, fn, b, role], ["LambdaFunctionScheduled", "Lambda.AWSLambdaException", '"name": "ChargeCard"',
                                        "A-20240514-0042"]


def _v13_sfn_distributed_map(g: Gen):
    r, a, b, b2, fn = g.region(), g.account(), g.bucket(), g.bucket(), g.name(g.pick(["pms", "ms", "p_m_s"]))
    asl = {"Comment": "Re-index every invoice PDF", "StartAt": "ForEachInvoice", "States": {"ForEachInvoice": {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": b, "Prefix": "invoices/2024/"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "Index", "States": {"Index": {
                              "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
                              "Parameters": {"Payload.$": "$", "FunctionName": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST"},
                              "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2,
                                         "MaxAttempts": 6, "BackoffRate": 2}], "End": True}}},
        "MaxConcurrency": 500, "ToleratedFailurePercentage": 5,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": b2, "Prefix": "map-results"}},
        "End": True}}}
    text = "```json\n// statemachine/reindex.asl.json\n" + json.dumps(asl, indent=2) + "\n```\n"
    return text, [b, b2, a, fn], ["arn:aws:states:::s3:listObjectsV2", '"Mode": "DISTRIBUTED"',
                                  "Lambda.TooManyRequestsException", "arn:aws:states:::lambda:invoke"]


def _v13_eb_targets(g: Gen):
    r, a, rule, bus, q, dlq, role = (g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms"),
                                     g.name(g.pick(["pms", "msn"])), g.name("ms") + "-dlq", g.name("pms"))
    text = (f"$ aws events describe-rule --name {rule} --event-bus-name {bus} --query EventPattern --output text\n"
            '{"source":["com.acme.orders"],"detail-type":["OrderPlaced"],"detail":{"total":[{"numeric":[">",500]}]}}\n'
            f"$ aws events list-targets-by-rule --rule {rule} --event-bus-name {bus}\n"
            + json.dumps({"Targets": [{"Id": "fraud-review", "Arn": f"arn:aws:sqs:{r}:{a}:{q}",
                                       "RoleArn": f"arn:aws:iam::{a}:role/{role}",
                                       "InputTransformer": {"InputPathsMap": {"id": "$.detail.orderId"},
                                                            "InputTemplate": "{\"orderId\": <id>}"},
                                       "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600},
                                       "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{r}:{a}:{dlq}"}}]}, indent=4) + "\n")
    return text, [rule, bus, a, q, dlq, role], ["$.detail.orderId", "MaximumRetryAttempts", "OrderPlaced"]


def _v13_pipes(g: Gen):
    r, a, pipe, q, fn, sm, role = (g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("msn"),
                                   g.name("pms"), g.name("Camel"), g.name("pms"))
    out = {"Arn": f"arn:aws:pipes:{r}:{a}:pipe/{pipe}", "Name": pipe, "DesiredState": "RUNNING",
           "CurrentState": "RUNNING", "StateReason": "", "Source": f"arn:aws:sqs:{r}:{a}:{q}",
           "SourceParameters": {"FilterCriteria": {"Filters": [{"Pattern": "{\"body\":{\"status\":[\"FAILED\"]}}"}]},
                                "SqsQueueParameters": {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 5}},
           "Enrichment": f"arn:aws:lambda:{r}:{a}:function:{fn}",
           "Target": f"arn:aws:states:{r}:{a}:stateMachine:{sm}",
           "TargetParameters": {"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}},
           "RoleArn": f"arn:aws:iam::{a}:role/service-role/{role}",
           "CreationTime": "2024-04-02T11:20:44+02:00", "LastModifiedTime": "2024-05-14T09:01:12+02:00"}
    text = f"aws pipes describe-pipe --name {pipe}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, pipe, q, fn, sm, role], ["FIRE_AND_FORGET", "SqsQueueParameters", '"CurrentState": "RUNNING"']


def _v13_scheduler(g: Gen):
    r, a, n, cl, role, td = g.region(), g.account(), g.name("msn"), g.name("pms"), g.name("pms"), g.name("ms")
    sub, sg = g.hexid("subnet"), g.hexid("sg")
    text = (f"aws scheduler create-schedule \\\n  --name {n} \\\n  --schedule-expression 'cron(0 3 * * ? *)' \\\n"
            "  --schedule-expression-timezone Europe/Berlin \\\n  --flexible-time-window '{\"Mode\": \"FLEXIBLE\", "
            "\"MaximumWindowInMinutes\": 15}' \\\n"
            f"  --target '{{\"Arn\": \"arn:aws:ecs:{r}:{a}:cluster/{cl}\", \"RoleArn\": \"arn:aws:iam::{a}:role/{role}\", "
            f"\"EcsParameters\": {{\"TaskDefinitionArn\": \"arn:aws:ecs:{r}:{a}:task-definition/{td}:7\", "
            "\"LaunchType\": \"FARGATE\", \"NetworkConfiguration\": {\"awsvpcConfiguration\": "
            f"{{\"Subnets\": [\"{sub}\"], \"SecurityGroups\": [\"{sg}\"], \"AssignPublicIp\": \"DISABLED\"}}}}}}}}'\n"
            "{\n    \"ScheduleArn\": \"arn:aws:scheduler:" + r + ":" + a + ":schedule/default/" + n + "\"\n}\n")
    return text, [a, n, cl, role, td, sub, sg], ["cron(0 3 * * ? *)", "Europe/Berlin", "\"LaunchType\": \"FARGATE\""]


def _v13_appconfig(g: Gen):
    r, a = g.region(), g.account()
    app, env, prof, name = g.alnum(7), g.alnum(7), g.alnum(7), g.name(g.pick(["pms", "ms"]))
    key = _uuid(g)
    text = (f"# inside the Lambda, via the AppConfig extension\n$ curl -s http://localhost:2772/applications/{name}"
            "/environments/production/configurations/feature-flags\n"
            '{"checkout_v2":{"enabled":true},"dark_mode":{"enabled":false}}\n\n'
            f"$ aws appconfig list-deployments --application-id {app} --environment-id {env} --max-results 1\n"
            + json.dumps({"Items": [{"DeploymentNumber": 14, "ConfigurationName": "feature-flags",
                                     "ConfigurationVersion": "9", "DeploymentDurationInMinutes": 10,
                                     "GrowthType": "LINEAR", "GrowthFactor": 50.0, "FinalBakeTimeInMinutes": 0,
                                     "State": "ROLLED_BACK", "PercentageComplete": 50.0,
                                     "StartedAt": "2024-05-14T10:12:03.410Z"}]}, indent=4)
            + f"\n$ aws appconfig get-configuration-profile --application-id {app} --configuration-profile-id {prof}\n"
            + json.dumps({"ApplicationId": app, "Id": prof, "Name": "feature-flags",
                          "LocationUri": "hosted", "Type": "AWS.AppConfig.FeatureFlags",
                          "KmsKeyArn": f"arn:aws:kms:{r}:{a}:key/{key}"}, indent=4) + "\n")
    return text, [app, env, prof, name, a, key], ["localhost:2772", "AWS.AppConfig.FeatureFlags", "ROLLED_BACK",
                                                  '"LocationUri": "hosted"']


def _v13_run_command(g: Gen):
    r, i, b = g.region(), g.iid(), g.bucket()
    cmd = _uuid(g)
    text = (f"$ aws ssm send-command --document-name AWS-RunShellScript --targets Key=tag:Role,Values=worker "
            f"--parameters 'commands=[\"systemctl restart app\",\"df -h /\"]' --output-s3-bucket-name {b} "
            f"--output-s3-key-prefix run-command --query Command.CommandId --output text\n{cmd}\n"
            f"$ aws ssm get-command-invocation --command-id {cmd} --instance-id {i}\n"
            + json.dumps({"CommandId": cmd, "InstanceId": i, "Comment": "", "DocumentName": "AWS-RunShellScript",
                          "DocumentVersion": "$DEFAULT", "PluginName": "aws:runShellScript", "ResponseCode": 0,
                          "Status": "Success", "StatusDetails": "Success",
                          "StandardOutputContent": "Filesystem      Size  Used Avail Use% Mounted on\n"
                                                   "/dev/nvme0n1p1   30G   27G  3.1G  90% /\n",
                          "StandardOutputUrl": f"https://s3.{r}.amazonaws.com/{b}/run-command/{cmd}/{i}/awsrunShellScript/0.awsrunShellScript/stdout",
                          "StandardErrorContent": "", "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "",
                                                                                  "CloudWatchOutputEnabled": False}},
                         indent=4) + "\n")
    return text, [i, b], ["AWS-RunShellScript", "aws:runShellScript", "/dev/nvme0n1p1", '"StatusDetails": "Success"']


def _v13_automation(g: Gen):
    r, a, i, role, doc = g.region(), g.account(), g.iid(), g.name("pms"), g.name("Camel").replace("Service", "Runbook")
    exid = _uuid(g)
    out = {"AutomationExecution": {
        "AutomationExecutionId": exid, "DocumentName": doc, "DocumentVersion": "3",
        "ExecutionStartTime": "2024-05-14T10:12:03.118000+00:00", "AutomationExecutionStatus": "Failed",
        "StepExecutions": [
            {"StepName": "stopInstance", "Action": "aws:changeInstanceState", "StepStatus": "Success",
             "Inputs": {"DesiredState": "\"stopped\"", "InstanceIds": f"[\"{i}\"]"}},
            {"StepName": "createImage", "Action": "aws:createImage", "StepStatus": "Failed",
             "FailureMessage": f"Step fails when it is Execute. User: arn:aws:sts::{a}:assumed-role/{role}/{exid} "
                               "is not authorized to perform: ec2:CreateImage on resource: "
                               f"arn:aws:ec2:{r}::image/*"}],
        "Parameters": {"InstanceId": [i], "AutomationAssumeRole": [f"arn:aws:iam::{a}:role/{role}"]},
        "Mode": "Auto", "ExecutedBy": f"arn:aws:sts::{a}:assumed-role/AWSReservedSSO_PowerUser_{g.alnum(16, _HEX)}/{g.person()}"}}
    text = (f"aws ssm get-automation-execution --automation-execution-id {exid}\n" + json.dumps(out, indent=4) + "\n")
    return text, [a, i, role, doc], ["aws:changeInstanceState", "aws:createImage", "ec2:CreateImage"]


# SSM and containers
def _v13_session_manager(g: Gen):
    r, i, role = g.region(), g.iid(), g.name("pms")
    host = _node_host(g, r)
    sid = f"{g.person().split('.')[1]}-{g.alnum(17, _HEX)}"
    text = (f"$ aws ssm start-session --target {i} --region {r}\n\nStarting session with SessionId: {sid}\n"
            "sh-5.2$ sudo -i\n[root@" + host.split(".")[0] + " ~]# TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token "
            "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60')\n"
            "[root@" + host.split(".")[0] + " ~]# curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" "
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/; echo\n"
            f"{role}\n[root@" + host.split(".")[0] + " ~]# hostname -f\n" + host + "\n"
            "[root@" + host.split(".")[0] + " ~]# exit\nlogout\nsh-5.2$ exit\nexit\n\n\n"
            f"Exiting session with sessionId: {sid}.\n")
    return text, [i, role, host], ["169.254.169.254", "X-aws-ec2-metadata-token-ttl-seconds", "Exiting session with sessionId"]


def _v13_params_by_path(g: Gen):
    r, a = g.region(), g.account()
    cl, cid = g.name(g.pick(["pms", "ms"])), g.alnum(12)
    q, sk, ak = g.name("msn"), g.secret(), g.akid()
    def p(name, typ, val, v):
        return {"Name": name, "Type": typ, "Value": val, "Version": v,
                "LastModifiedDate": "2024-04-30T08:14:55.210000+00:00",
                "ARN": f"arn:aws:ssm:{r}:{a}:parameter{name}", "DataType": "text"}
    params = [p("/prod/worker/db_host", "String", f"{cl}.cluster-{cid}.{r}.rds.amazonaws.com", 3),
              p("/prod/worker/queue_url", "String", f"https://sqs.{r}.amazonaws.com/{a}/{q}", 1),
              p("/prod/worker/legacy_access_key_id", "SecureString", ak, 2),
              p("/prod/worker/legacy_secret_access_key", "SecureString", sk, 2)]
    text = ("$ aws ssm get-parameters-by-path --path /prod/worker --recursive --with-decryption\n"
            + json.dumps({"Parameters": params}, indent=4) + "\n")
    return text, [a, cl, cid, q, sk, ak], ['"Type": "SecureString"', '"DataType": "text"']


def _v13_ecs_exec(g: Gen):
    r, cl, task = g.region(), g.name(g.pick(["pms", "ms"])), g.alnum(32, _HEX)
    cred = _uuid(g)
    text = (f"$ aws ecs execute-command --cluster {cl} --task {task} --container app --interactive --command \"/bin/sh\"\n\n"
            "The Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n\n"
            f"Starting session with SessionId: ecs-execute-command-{g.alnum(17, _HEX)}\n"
            "# env | grep -E '^(AWS|ECS)' | sort\n"
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/" + cred + "\n"
            f"AWS_DEFAULT_REGION={r}\nAWS_EXECUTION_ENV=AWS_ECS_FARGATE\nAWS_REGION={r}\n"
            f"ECS_AGENT_URI=http://169.254.170.2/api/{task}-{g.r.randint(1000000000, 4000000000)}\n"
            f"ECS_CONTAINER_METADATA_URI=http://169.254.170.2/v3/{task}-{g.r.randint(1000000000, 4000000000)}\n"
            f"ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/{task}-{g.r.randint(1000000000, 4000000000)}\n"
            "# exit\n\n\nExiting session with sessionId: ecs-execute-command-" + g.alnum(17, _HEX) + ".\n")
    return text, [cl, task], ["AWS_EXECUTION_ENV=AWS_ECS_FARGATE", "169.254.170.2", "Session Manager plugin"]


def _v13_batch(g: Gen):
    r, a, q, ce, jd = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("pms"), g.name("msn")
    jid = _uuid(g)
    text = (f"$ aws batch describe-job-queues --job-queues {q}\n"
            + json.dumps({"jobQueues": [{"jobQueueName": q, "jobQueueArn": f"arn:aws:batch:{r}:{a}:job-queue/{q}",
                                         "state": "ENABLED", "status": "VALID", "priority": 10,
                                         "computeEnvironmentOrder": [{"order": 1, "computeEnvironment":
                                                                      f"arn:aws:batch:{r}:{a}:compute-environment/{ce}"}],
                                         "jobStateTimeLimitActions": []}]}, indent=4)
            + f"\n$ aws batch submit-job --job-name nightly-rollup --job-queue {q} --job-definition {jd}:12\n"
            + json.dumps({"jobArn": f"arn:aws:batch:{r}:{a}:job/{jid}", "jobName": "nightly-rollup", "jobId": jid},
                         indent=4)
            + f"\n$ aws logs tail /aws/batch/job --log-stream-names {jd}/default/{g.alnum(32, _HEX)} --since 5m\n"
            f"2024-05-14T10:12:03 Traceback (most recent call last):\n2024-05-14T10:12:03   File \"/app/rollup.py\", line 41\n"
            "2024-05-14T10:12:03 MemoryError\n")
    return text, [a, q, ce, jd], ['"status": "VALID"', "/aws/batch/job", "MemoryError"]


# data and streaming
def _v13_firehose_error(g: Gen):
    r, a, fn, b, stream = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.bucket(), g.name("msn")
    rec = {"attemptsMade": 4, "arrivalTimestamp": 1715681523118, "errorCode": "Lambda.FunctionError",
           "errorMessage": "The Lambda function was successfully invoked but it returned an error result.",
           "attemptEndingTimestamp": 1715681583904, "rawData": "eyJldmVudCI6ImNsaWNrIiwidXNlciI6NDJ9",
           "lambdaArn": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST"}
    key = f"errors/processing-failed/2024/05/14/10/{stream}-3-2024-05-14-10-12-03-{_uuid(g)}"
    text = (f"$ aws s3 cp s3://{b}/{key} - | head -1 | jq .\n" + json.dumps(rec, indent=2) + "\n"
            f"# delivery stream {stream} (Direct PUT -> S3), transform Lambda times out at 60 s\n")
    return text, [a, fn, b, stream], ["Lambda.FunctionError", "processing-failed", "eyJldmVudCI6ImNsaWNrIiwidXNlciI6NDJ9"]


def _v13_emr_serverless(g: Gen):
    r, a, role, b, b2 = g.region(), g.account(), g.name("pms"), g.bucket(), g.bucket()
    app, run = "00f" + g.alnum(13), "00f" + g.alnum(13)
    out = {"jobRun": {"applicationId": app, "jobRunId": run, "name": "daily-sessionize",
                      "arn": f"arn:aws:emr-serverless:{r}:{a}:/applications/{app}/jobruns/{run}",
                      "createdBy": f"arn:aws:sts::{a}:assumed-role/{role}/airflow",
                      "executionRole": f"arn:aws:iam::{a}:role/{role}", "state": "FAILED",
                      "stateDetails": "Job failed, please check complete logs in configured logging destination. "
                                      "ExitCode: 1. Last few exceptions: Caused by: java.io.FileNotFoundException: "
                                      f"No such file or directory: s3://{b}/raw/sessions/dt=2024-05-13\n",
                      "releaseLabel": "emr-7.1.0",
                      "jobDriver": {"sparkSubmit": {"entryPoint": f"s3://{b2}/jobs/sessionize.py",
                                                    "sparkSubmitParameters": "--conf spark.executor.cores=4 --conf spark.executor.memory=16g"}},
                      "configurationOverrides": {"monitoringConfiguration": {
                          "s3MonitoringConfiguration": {"logUri": f"s3://{b2}/emr-serverless-logs/"}}}}}
    text = (f"aws emr-serverless get-job-run --application-id {app} --job-run-id {run}\n" + json.dumps(out, indent=2) + "\n")
    return text, [a, role, b, b2, app, run], ["emr-7.1.0", "java.io.FileNotFoundException", "spark.executor.memory=16g"]


def _v13_msk_iam(g: Gen):
    r, a, name, cid = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.alnum(6)
    uid = _uuid(g) + "-" + str(g.r.randint(2, 25))
    brokers = ",".join(f"b-{n}.{name}.{cid}.c{g.r.randint(2, 9)}.kafka.{r}.amazonaws.com:9098" for n in (1, 2, 3))
    text = (f"$ aws kafka get-bootstrap-brokers --cluster-arn arn:aws:kafka:{r}:{a}:cluster/{name}/{uid}\n"
            + json.dumps({"BootstrapBrokerStringSaslIam": brokers}, indent=4)
            + "\n$ cat client.properties\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\n"
            "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;\n"
            "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler\n"
            f"$ bin/kafka-topics.sh --bootstrap-server {brokers.split(',')[0]} --command-config client.properties --list\n"
            "__amazon_msk_canary\n__consumer_offsets\norders.v1\n")
    return text, [a, name, cid], ["software.amazon.msk.auth.iam.IAMLoginModule", "AWS_MSK_IAM", "__amazon_msk_canary",
                                  "orders.v1"]


def _v13_glue_crawler(g: Gen):
    a, crawler, db, b = g.account(), g.name(g.pick(["pms", "p_m_s"])), g.name("p_m_s"), g.bucket()
    rid = _uuid(g)
    text = (f"$ aws glue get-crawler --name {crawler} --query Crawler.Role --output text\n"
            f"arn:aws:iam::{a}:role/service-role/AWSGlueServiceRole-{db}\n"
            f"$ aws logs tail /aws-glue/crawlers --log-stream-names {crawler} --since 1h\n"
            f"2024-05-14T10:12:03.118000+00:00 {crawler} [{rid}] BENCHMARK : Running Start Crawl for Crawler {crawler}\n"
            f"2024-05-14T10:12:21.402000+00:00 {crawler} [{rid}] INFO : The crawl is running by consuming Amazon S3 events.\n"
            f"2024-05-14T10:12:40.975000+00:00 {crawler} [{rid}] INFO : Created partitions with values [[2024, 05, 14]] for table clickstream in database {db}\n"
            f"2024-05-14T10:12:41.003000+00:00 {crawler} [{rid}] ERROR : Insufficient Lake Formation permission(s) on "
            f"s3://{b}/raw/clickstream/ (Database name: {db}, Table Name: clickstream) (Service: AWSGlue; Status Code: 400; "
            f"Error Code: AccessDeniedException; Request ID: {_uuid(g)}; Proxy: null). For more information, see "
            "Setting up IAM Permissions in the Developer Guide (http://docs.aws.amazon.com/glue/latest/dg/getting-started-access.html).\n"
            f"2024-05-14T10:12:44.510000+00:00 {crawler} [{rid}] BENCHMARK : Crawler has finished running and is in state READY\n")
    return text, [a, crawler, db, b], ["BENCHMARK : Running Start Crawl", "Insufficient Lake Formation permission(s)",
                                    "http://docs.aws.amazon.com/glue/latest/dg/getting-started-access.html"]


# operations: backup, quotas, health, scaling, load balancing, certificates, DNS, events
def _v13_backup(g: Gen):
    r, r2, a, vault, vault2, db = g.region(), g.region(), g.account(), g.name("pms"), g.name("pms"), g.name(g.pick(["pms", "ms"]))
    job = _uuid(g)
    plan = {"BackupPlan": {"BackupPlanName": "daily-35d-copy-dr", "Rules": [{
        "RuleName": "daily", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 ? * * *)",
        "StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "Lifecycle": {"DeleteAfterDays": 35},
        "CopyActions": [{"Lifecycle": {"DeleteAfterDays": 90},
                         "DestinationBackupVaultArn": f"arn:aws:backup:{r2}:{a}:backup-vault:{vault2}"}]}]}}
    jobs = {"BackupJobs": [{"BackupJobId": job, "BackupVaultName": vault,
                            "BackupVaultArn": f"arn:aws:backup:{r}:{a}:backup-vault:{vault}",
                            "RecoveryPointArn": f"arn:aws:rds:{r}:{a}:snapshot:awsbackup:job-{job}",
                            "ResourceArn": f"arn:aws:rds:{r}:{a}:db:{db}", "State": "COMPLETED",
                            "IamRoleArn": f"arn:aws:iam::{a}:role/service-role/AWSBackupDefaultServiceRole",
                            "ResourceType": "RDS", "BackupSizeInBytes": 53687091200}]}
    text = ("Plan (get-backup-plan, trimmed):\n" + json.dumps(plan, indent=2) +
            "\n\nLast night's job (list-backup-jobs --by-resource-type RDS --max-results 1):\n" + json.dumps(jobs, indent=2) + "\n")
    return text, [a, vault, vault2, db], ["cron(0 5 ? * * *)", "AWSBackupDefaultServiceRole", '"State": "COMPLETED"']


def _v13_service_quotas(g: Gen):
    r, a, role = g.region(), g.account(), g.name("pms")
    rid = g.alnum(32, _HEX)
    text = ("$ aws service-quotas list-requested-service-quota-change-history --service-code ec2 --output json\n"
            + json.dumps({"RequestedQuotas": [{
                "Id": rid, "CaseId": str(g.r.randint(10**10, 10**11 - 1)), "ServiceCode": "ec2",
                "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)", "QuotaCode": "L-1216C47A",
                "QuotaName": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
                "DesiredValue": 512.0, "Status": "CASE_OPENED", "Created": "2024-05-14T10:12:03.118000+00:00",
                "Requester": json.dumps({"accountId": a, "callerArn": f"arn:aws:sts::{a}:assumed-role/{role}/{g.person()}"}),
                "QuotaArn": f"arn:aws:servicequotas:{r}:{a}:ec2/L-1216C47A", "GlobalQuota": False, "Unit": "None",
                "QuotaRequestedAtLevel": "ACCOUNT"}]}, indent=4) + "\n")
    return text, [a, role], ["L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "CASE_OPENED"]


def _v13_health_email(g: Gen):
    r, a, i, i2 = g.region(), g.account(), g.iid(), g.iid()
    text = ("Subject: [Retirement Notification] Amazon EC2 Instance scheduled for retirement.\n"
            "From: Amazon Web Services <no-reply-aws@amazon.com>\n\nHello,\n\n"
            "EC2 has detected degradation of the underlying hardware hosting your Amazon EC2 instance "
            f"(instance-ID: {i}) associated with your AWS account (AWS Account ID: {a}) in the {r} region. "
            "Due to this degradation your instance could already be unreachable. We will stop your instance after "
            "2024-05-28 02:00 UTC.\n\nThe following instances are also affected:\n"
            f"{i2}\n\nYou can find more information about this event on the AWS Health Dashboard: "
            "https://health.aws.amazon.com/health/home#/account/event-log?eventID=arn:aws:health:" + r
            + "::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_"
            + g.alnum(6, _HEX) + "&eventTab=details\n\nSincerely,\nAmazon Web Services\n")
    return text, [i, i2, a], ["AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED", f"in the {r} region", "no-reply-aws@amazon.com"]


def _v13_asg_activities(g: Gen):
    r, a, asg, i, sub, az = g.region(), g.account(), g.name(g.pick(["pms", "msn"])), g.iid(), g.hexid("subnet"), ""
    az = r + g.pick("abc")
    act = {"Activities": [{
        "ActivityId": _uuid(g), "AutoScalingGroupName": asg,
        "Description": f"Launching a new EC2 instance: {i}",
        "Cause": "At 2024-05-14T10:12:03Z an instance was started in response to a difference between desired and "
                 "actual capacity, increasing the capacity from 2 to 3.",
        "StartTime": "2024-05-14T10:12:05.118Z", "EndTime": "2024-05-14T10:12:37Z", "StatusCode": "Successful",
        "Progress": 100, "Details": json.dumps({"Subnet ID": sub, "Availability Zone": az}),
        "AutoScalingGroupARN": f"arn:aws:autoscaling:{r}:{a}:autoScalingGroup:{_uuid(g)}:autoScalingGroupName/{asg}"}]}
    text = (f"$ aws autoscaling describe-scaling-activities --auto-scaling-group-name {asg} --max-items 1\n"
            + json.dumps(act, indent=4) + "\n")
    return text, [a, asg, i, sub], ["increasing the capacity from 2 to 3", '"StatusCode": "Successful"']


def _v13_target_health(g: Gen):
    r, a = g.region(), g.account()
    tg, tgh = _v13_lb(g)
    i1, i2 = g.iid(), g.iid()
    head = f"$ aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:{r}:{a}:targetgroup/{tg}/{tgh} --output table\n"
    rows = [[i1, "8080", "unhealthy", "Target.FailedHealthChecks"], [i2, "8080", "healthy", ""]]
    table = _v12_cli_table("DescribeTargetHealth", "TargetHealthDescriptions",
                           ["Target.Id", "Port", "State", "Reason"], rows)
    return head + table + "\n", [a, tg, tgh, i1, i2], ["Target.FailedHealthChecks", "DescribeTargetHealth"]


def _v13_acm(g: Gen):
    r, a, cert = g.region(), g.account(), _uuid(g)
    lb, lbh = _v13_lb(g)
    dom = g.pick(["shop.example.net", "api.example.org", "portal.example.com"])
    out = {"Certificate": {
        "CertificateArn": f"arn:aws:acm:{r}:{a}:certificate/{cert}", "DomainName": dom,
        "SubjectAlternativeNames": [dom],
        "DomainValidationOptions": [{"DomainName": dom, "ValidationDomain": dom, "ValidationStatus": "PENDING_VALIDATION",
                                     "ResourceRecord": {"Name": f"_{g.alnum(32, _HEX)}.{dom}.", "Type": "CNAME",
                                                        "Value": f"_{g.alnum(32, _HEX)}.{g.alnum(10, 'abcdefghijklmnopqrstuvwxyz')}.acm-validations.aws."},
                                     "ValidationMethod": "DNS"}],
        "InUseBy": [f"arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{lb}/{lbh}"],
        "Status": "PENDING_VALIDATION", "Type": "AMAZON_ISSUED", "KeyAlgorithm": "RSA-2048", "RenewalEligibility": "INELIGIBLE"}}
    text = f"aws acm describe-certificate --certificate-arn arn:aws:acm:{r}:{a}:certificate/{cert}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, cert, lb, lbh], ["acm-validations.aws.", "PENDING_VALIDATION", dom, "AMAZON_ISSUED"]


def _v13_cf_invalidation(g: Gen):
    dist, inv = "E" + g.alnum(13, _V13_UPPER), "I" + g.alnum(13, _V13_UPPER) + g.alnum(12, _V13_UPPER)
    dom = f"d{g.alnum(13, 'abcdefghijklmnopqrstuvwxyz0123456789')}.cloudfront.net"
    text = (f"$ aws cloudfront create-invalidation --distribution-id {dist} --paths '/index.html' '/static/*'\n"
            + json.dumps({"Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist}/invalidation/{inv}",
                          "Invalidation": {"Id": inv, "Status": "InProgress", "CreateTime": "2024-05-14T10:12:03.118000+00:00",
                                           "InvalidationBatch": {"Paths": {"Quantity": 2, "Items": ["/index.html", "/static/*"]},
                                                                 "CallerReference": "cli-1715681523-417230"}}}, indent=4)
            + f"\n$ curl -sI https://{dom}/index.html | grep -i x-cache\nx-cache: Miss from cloudfront\n")
    return text, [dist, dom], ["InProgress", "x-cache: Miss from cloudfront", "2020-05-31", "cli-1715681523-417230"]


def _v13_r53_change(g: Gen):
    r, zone = g.region(), "Z0" + g.alnum(g.r.randint(17, 19), _V13_UPPER)
    lb, lbh = _v13_lb(g)
    dns = f"dualstack.{lb}-{g.r.randint(100000000, 1999999999)}.{r}.elb.amazonaws.com."
    batch = {"Comment": "cut over api to the new ALB", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "api.example.org.", "Type": "A",
        "AliasTarget": {"HostedZoneId": _V13_ELB_ZONE[r], "DNSName": dns, "EvaluateTargetHealth": True}}}]}
    cid = "C" + g.alnum(20, _V13_UPPER)
    text = ("$ cat change.json\n" + json.dumps(batch, indent=2)
            + f"\n$ aws route53 change-resource-record-sets --hosted-zone-id {zone} --change-batch file://change.json\n"
            + json.dumps({"ChangeInfo": {"Id": f"/change/{cid}", "Status": "PENDING",
                                         "SubmittedAt": "2024-05-14T10:12:03.118000+00:00",
                                         "Comment": "cut over api to the new ALB"}}, indent=4) + "\n")
    return text, [zone, lb], [_V13_ELB_ZONE[r], '"Action": "UPSERT"', "api.example.org."]


def _v13_rds_event(g: Gen):
    r, a, db, topic = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("pms")
    msg = {"Event Source": "db-instance", "Event Time": "2024-05-14 10:12:03.118",
           "Identifier Link": f"https://console.aws.amazon.com/rds/home?region={r}#dbinstance:id={db}",
           "Source ID": db, "Source ARN": f"arn:aws:rds:{r}:{a}:db:{db}",
           "Event ID": "http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/USER_Events.html#RDS-EVENT-0089",
           "Event Message": "The DB instance has consumed more than 90% of its allocated storage."}
    text = ("Subject: RDS Notification Message\n\n" + json.dumps(msg) + "\n\n--\nIf you wish to stop receiving "
            "notifications from this topic, please click or visit the link below to unsubscribe:\n"
            f"https://sns.{r}.amazonaws.com/unsubscribe.html?SubscriptionArn=arn:aws:sns:{r}:{a}:{topic}:{_uuid(g)}"
            "&Endpoint=dba-team@example.com\n")
    return text, [a, db, topic], ["RDS-EVENT-0089", '"Event Source": "db-instance"', "dba-team@example.com"]


def _v13_synthetics(g: Gen):
    r, a = g.region(), g.account()
    canary = g.name(g.pick(["ms", "msn"]))[:21]
    lb, lbh = _v13_lb(g)
    host = f"{lb}-{g.r.randint(100000000, 1999999999)}.{r}.elb.amazonaws.com"
    text = ("INFO: Start Canary\nINFO: Synthetics runtime version: syn-nodejs-puppeteer-7.0\n"
            f"INFO: Navigating to url: https://{host}/healthz\n"
            "ERROR: Canary error: \nError: Failed to load url: https://" + host + "/healthz: net::ERR_CONNECTION_TIMED_OUT\n"
            "    at Synthetics.executeStep (/opt/nodejs/node_modules/Synthetics.js:327:19)\n"
            f"INFO: Uploading screenshots to s3://cw-syn-results-{a}-{r}/canary/{r}/{canary}-{g.alnum(4, _HEX)}-{g.alnum(12, _HEX)}/"
            "2024/05/14/10/12-03-118/\nINFO: Publishing metric: SuccessPercent 0\nINFO: Canary execution finished\n")
    return text, [a, canary, lb], ["syn-nodejs-puppeteer-7.0", "net::ERR_CONNECTION_TIMED_OUT", "SuccessPercent 0"]


# security
def _v13_waf_log(g: Gen):
    r, a, acl, aclid = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), _uuid(g)
    lb, lbh = _v13_lb(g)
    rec = {"timestamp": 1715681523118, "formatVersion": 1,
           "webaclId": f"arn:aws:wafv2:{r}:{a}:regional/webacl/{acl}/{aclid}",
           "terminatingRuleId": "AWS-AWSManagedRulesSQLiRuleSet", "terminatingRuleType": "MANAGED_RULE_GROUP",
           "action": "BLOCK", "terminatingRuleMatchDetails": [{"conditionType": "SQL_INJECTION", "location": "BODY",
                                                                "matchedData": ["'", "OR", "1=1"]}],
           "httpSourceName": "ALB", "httpSourceId": f"{a}-app/{lb}/{lbh}",
           "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet", "terminatingRule": {"ruleId": "SQLi_BODY", "action": "BLOCK"}}],
           "rateBasedRuleList": [], "nonTerminatingMatchingRules": [],
           "httpRequest": {"clientIp": "203.0.113.77", "country": "NL",
                           "headers": [{"name": "Host", "value": "shop.example.net"}, {"name": "User-Agent", "value": "sqlmap/1.8.4#stable"}],
                           "uri": "/api/login", "args": "", "httpVersion": "HTTP/1.1", "httpMethod": "POST",
                           "requestId": f"1-{g.alnum(8, _HEX)}-{g.alnum(24, _HEX)}"}}
    text = json.dumps(rec, separators=(",", ":")) + "\n"
    # 203.0.113.77 is not must-keep: documentation_ranges: mask is the README's default (relabelled in session 12)
    return text, [a, acl, aclid, lb, lbh], ["AWS-AWSManagedRulesSQLiRuleSet", "sqlmap/1.8.4#stable",
                                            '"httpSourceName":"ALB"']


def _v13_nfw_alert(g: Gen):
    r, a, fw = g.region(), g.account(), g.name(g.pick(["pms", "ms"]))
    az = r + g.pick("abc")
    rec = {"firewall_name": fw, "availability_zone": az, "event_timestamp": str(int(_v13_epoch(g))),
           "event": {"timestamp": "2024-05-14T10:12:03.118402+0000", "flow_id": g.r.randint(10**14, 10**15),
                     "event_type": "alert", "src_port": g.r.randint(30000, 60000),
                     "dest_ip": "198.51.100.23", "dest_port": 443, "proto": "TCP", "app_proto": "tls",
                     "alert": {"action": "blocked", "signature_id": 5, "rev": 0,
                               "signature": "not matching any TLS allowlisted FQDNs", "category": "", "severity": 3},
                     "tls": {"sni": "paste.example.com", "version": "TLS 1.3"}}}
    text = (f"# s3://aws-nfw-logs-{a}/AWSLogs/{a}/network-firewall/alert/{r}/2024/05/14/10/"
            f"{a}_network-firewall_alert_{fw}_20240514T1015Z_{g.alnum(8, _HEX)}.log.gz\n" + json.dumps(rec) + "\n")
    # 198.51.100.23 is not must-keep: documentation_ranges: mask is the README's default (relabelled in session 12)
    return text, [a, fw], ["paste.example.com", "not matching any TLS allowlisted FQDNs"]


def _v13_resolver_log(g: Gen):
    r, a, vpc, i = g.region(), g.account(), g.hexid("vpc"), g.iid()
    cl, cid = g.name(g.pick(["pms", "ms"])), g.alnum(12)
    rec = {"version": "1.100000", "account_id": a, "region": r, "vpc_id": vpc,
           "query_timestamp": "2024-05-14T10:12:03Z", "query_name": f"{cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com.",
           "query_type": "A", "query_class": "IN", "rcode": "NXDOMAIN", "answers": [],
           "srcport": str(g.r.randint(30000, 60000)), "transport": "UDP", "srcids": {"instance": i},
           "firewall_rule_action": "ALERT", "firewall_rule_group_id": "rslvr-frg-" + g.alnum(16, _HEX),
           "firewall_domain_list_id": "rslvr-fdl-" + g.alnum(16, _HEX)}
    text = "Resolver query log (one record):\n```\n" + json.dumps(rec, indent=1) + "\n```\n"
    return text, [a, vpc, i, cl, cid], ["NXDOMAIN", '"version": "1.100000"', '"firewall_rule_action": "ALERT"']


def _v13_sechub_action(g: Gen):
    r, a, fn = g.region(), g.account(), g.name(g.pick(["pms", "ms"]))
    text = ('$ aws securityhub create-action-target --name "Send to Jira" --id SendToJira '
            '--description "Open a Jira ticket for the selected findings"\n'
            + json.dumps({"ActionTargetArn": f"arn:aws:securityhub:{r}:{a}:action/custom/SendToJira"}, indent=4) + "\n"
            "$ aws events put-rule --name securityhub-send-to-jira --event-pattern '"
            + json.dumps({"source": ["aws.securityhub"], "detail-type": ["Security Hub Findings - Custom Action"],
                          "resources": [f"arn:aws:securityhub:{r}:{a}:action/custom/SendToJira"]})
            + "'\n$ aws events put-targets --rule securityhub-send-to-jira --targets "
            f"Id=jira,Arn=arn:aws:lambda:{r}:{a}:function:{fn}\n")
    return text, [a, fn], ["Security Hub Findings - Custom Action", "aws.securityhub"]


def _v13_gd_malware_s3(g: Gen):
    r, a, b, plan = g.region(), g.account(), g.bucket(), g.alnum(20)
    ev = {"version": "0", "id": _uuid(g), "detail-type": "GuardDuty Malware Protection Object Scan Result",
          "source": "aws.guardduty", "account": a, "time": "2024-05-14T10:12:03Z", "region": r,
          "resources": [f"arn:aws:guardduty:{r}:{a}:malware-protection-plan/{plan}"],
          "detail": {"schemaVersion": "1.0", "scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
                     "s3ObjectDetails": {"bucketName": b, "objectKey": "uploads/2024/05/invoice-8812.pdf",
                                         "eTag": g.alnum(32, _HEX), "versionId": g.alnum(32, _B64[:62] + "._"),
                                         "s3Throttled": False},
                     "scanResultDetails": {"scanResultStatus": "THREATS_FOUND",
                                           "threats": [{"name": "EICAR-Test-File (not a virus)"}]}}}
    text = json.dumps(ev, indent=2) + "\n"
    return text, [a, b, plan], ["THREATS_FOUND", "EICAR-Test-File (not a virus)", "uploads/2024/05/invoice-8812.pdf"]


def _v13_reachability(g: Gen):
    r, a, sg, eni, nia, nip, i = (g.region(), g.account(), g.hexid("sg"), g.hexid("eni"), g.hexid("nia"),
                                  g.hexid("nip"), g.iid())
    out = {"NetworkInsightsAnalyses": [{
        "NetworkInsightsAnalysisId": nia,
        "NetworkInsightsAnalysisArn": f"arn:aws:ec2:{r}:{a}:network-insights-analysis/{nia}",
        "NetworkInsightsPathId": nip, "Status": "succeeded", "NetworkPathFound": False,
        "Explanations": [{"Direction": "ingress", "ExplanationCode": "ENI_SG_RULES_MISMATCH",
                          "NetworkInterface": {"Id": eni, "Arn": f"arn:aws:ec2:{r}:{a}:network-interface/{eni}"},
                          "SecurityGroups": [{"Id": sg, "Arn": f"arn:aws:ec2:{r}:{a}:security-group/{sg}"}],
                          "Destination": {"Id": i, "Arn": f"arn:aws:ec2:{r}:{a}:instance/{i}"},
                          "Port": 5432, "Protocol": "tcp"}]}]}
    text = f"aws ec2 describe-network-insights-analyses --network-insights-path-id {nip}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, sg, eni, nia, nip, i], ["ENI_SG_RULES_MISMATCH", '"NetworkPathFound": false']


def _v13_ram(g: Gen):
    r, a, a2, share, sub = g.region(), g.account(), g.account(), g.name("pms"), g.hexid("subnet")
    ou, org = f"ou-{g.alnum(4)}-{g.alnum(8)}", g.org()
    text = (f"$ aws ram get-resource-shares --resource-owner SELF --name {share} --query 'resourceShares[0]'\n"
            + json.dumps({"resourceShareArn": f"arn:aws:ram:{r}:{a}:resource-share/{_uuid(g)}", "name": share,
                          "owningAccountId": a, "allowExternalPrincipals": False, "status": "ACTIVE"}, indent=4)
            + f"\n$ aws ram list-principals --resource-owner SELF --query 'principals[].id' --output text\n{ou}\t{a2}\n"
            "$ aws ram list-resources --resource-owner SELF --output text\n"
            f"RESOURCES\t2024-03-02T09:41:17.118000+00:00\t2024-03-02T09:41:17.118000+00:00\t"
            f"arn:aws:ec2:{r}:{a}:subnet/{sub}\tarn:aws:ram:{r}:{a}:resource-share/{g.alnum(8, _HEX)}\tAVAILABLE\tec2:Subnet\n"
            f"# organization arn:aws:organizations::{a}:organization/{org}\n")
    return text, [a, a2, share, sub, ou, org], ['"status": "ACTIVE"', "ec2:Subnet", "AVAILABLE"]


# organisations and billing
def _v13_aft_request(g: Gen):
    a, name, ou = g.account(), g.name(g.pick(["pms", "ms"])), f"ou-{g.alnum(4)}-{g.alnum(8)}"
    text = ('module "' + name.replace("-", "_") + '" {\n  source = "./modules/aft-account-request"\n\n'
            "  control_tower_parameters = {\n"
            f"    AccountEmail              = \"aws+{name}@example.com\"\n"
            f"    AccountName               = \"{name}\"\n"
            f"    ManagedOrganizationalUnit = \"Workloads ({ou})\"\n"
            "    SSOUserEmail              = \"platform@example.com\"\n    SSOUserFirstName          = \"Platform\"\n"
            "    SSOUserLastName           = \"Team\"\n  }\n\n  account_tags = {\n    \"cost-center\" = \"CC-4410\"\n  }\n\n"
            "  change_management_parameters = {\n    change_requested_by = \"platform\"\n    change_reason       = \"new workload\"\n  }\n\n"
            f"  account_customizations_name = \"{name}-baseline\"\n}}\n\n"
            "$ aws organizations describe-create-account-status --create-account-request-id car-" + g.alnum(32, _HEX) + "\n"
            + json.dumps({"CreateAccountStatus": {"AccountName": name, "State": "SUCCEEDED", "AccountId": a,
                                                  "RequestedTimestamp": "2024-05-14T10:12:03.118000+00:00"}}, indent=4) + "\n")
    return text, [a, name, ou], ["control_tower_parameters", '"State": "SUCCEEDED"', "CC-4410"]


def _v13_budget_email(g: Gen):
    a, budget = g.account(), g.name(g.pick(["pms", "ms"])) + "-monthly"
    text = ("Subject: AWS Budgets: " + budget + " has exceeded your alert threshold\n\n"
            "AWS Budget Notification May 14, 2024\n"
            f"AWS Account {a}\n\nDear AWS Customer,\n\n"
            f"You requested that we alert you when the ACTUAL Cost associated with your {budget} budget is greater "
            "than $4,000.00 for the current month. The ACTUAL Cost associated with this budget is $4,213.57. You can "
            "find additional details below and by accessing the AWS Budgets dashboard.\n\n"
            f"Budget Name\t{budget}\nBudget Type\tCost\nBudgeted Amount\t$5,000.00\nAlert Type\tACTUAL\n"
            "Alert Threshold\t> $4,000.00\nACTUAL Amount\t$4,213.57\n\n"
            f"Go to the AWS Budgets dashboard: https://console.aws.amazon.com/billing/home#/budgets/details?name={budget}\n")
    return text, [a, budget], ["$4,213.57", "Budget Type\tCost", "Alert Type\tACTUAL"]


def _v13_cost_anomaly(g: Gen):
    a, a2, mon, acct_name = g.account(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms")
    mid, aid = _uuid(g), _uuid(g)
    msg = {"accountId": a, "anomalyDetailsLink": f"https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/{mid}/anomalies/{aid}",
           "anomalyEndDate": "2024-05-14T00:00:00Z", "anomalyId": aid, "anomalyScore": {"currentScore": 0.71, "maxScore": 0.71},
           "anomalyStartDate": "2024-05-13T00:00:00Z", "dimensionalValue": "Amazon Elastic Compute Cloud - Compute",
           "impact": {"maxImpact": 612.0, "totalActualSpend": 1740.22, "totalExpectedSpend": 1128.0, "totalImpact": 612.22},
           "monitorArn": f"arn:aws:ce::{a}:anomalymonitor/{mid}", "monitorName": mon,
           "rootCauses": [{"linkedAccount": a2, "linkedAccountName": acct_name, "region": "us-east-1",
                           "service": "Amazon Elastic Compute Cloud - Compute", "usageType": "USE1-BoxUsage:m5.4xlarge"}],
           "subscriptionId": _uuid(g), "subscriptionName": "daily-digest"}
    text = "Cost anomaly alert (SNS) — who owns this linked account?\n" + json.dumps(msg, indent=2) + "\n"
    return text, [a, a2, mon, acct_name, mid], ["USE1-BoxUsage:m5.4xlarge", "Amazon Elastic Compute Cloud - Compute", "612.22"]


# hosts and configuration management
def _v13_cloud_init(g: Gen):
    r, i, b = g.region(), g.iid(), g.bucket()
    host = _node_host(g, r)
    short = host.split(".")[0]
    mac = ":".join(g.alnum(2, _HEX) for _ in range(6))
    text = (f"$ aws ec2 get-console-output --instance-id {i} --latest --output text | tail -n 24\n"
            f"{i}\t2024-05-14T10:12:03+00:00\n"
            "[   12.441021] cloud-init[2131]: Cloud-init v. 22.2.2 running 'init' at Tue, 14 May 2024 10:11:48 +0000. Up 12.38 seconds.\n"
            "[   12.512274] cloud-init[2131]: ci-info: ++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++\n"
            "[   12.513880] cloud-init[2131]: ci-info: +--------+------+------------------+---------------+--------+-------------------+\n"
            "[   12.515310] cloud-init[2131]: ci-info: | Device |  Up  |     Address      |      Mask     | Scope  |     Hw-Address    |\n"
            f"[   12.518841] cloud-init[2131]: ci-info: |  ens5  | True | fe80::{g.alnum(4, _HEX)}:ff:fe12:3456/64 |       .       |  link  | {mac} |\n"
            "[   12.520093] cloud-init[2131]: ci-info: +--------+------+------------------+---------------+--------+-------------------+\n"
            f"[   31.004577] cloud-init[2502]: + aws s3 cp s3://{b}/bootstrap/worker.sh /tmp/worker.sh\n"
            f"[   31.912430] cloud-init[2502]: download: s3://{b}/bootstrap/worker.sh to ../tmp/worker.sh\n"
            f"[   32.118002] cloud-init[2502]: + hostnamectl set-hostname {short}\n"
            "[   33.610291] cloud-init[2502]: Cloud-init v. 22.2.2 finished at Tue, 14 May 2024 10:12:09 +0000. Datasource DataSourceEc2Local.  Up 33.55 seconds\n"
            "[   33.702114] cloud-init[2502]: #############################################################\n"
            "[   33.703555] cloud-init[2502]: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
            f"[   33.705001] cloud-init[2502]: 256 SHA256:{g.alnum(43, _B64[:62])} no comment (ECDSA)\n"
            "[   33.706419] cloud-init[2502]: -----END SSH HOST KEY FINGERPRINTS-----\n")
    return text, [i, b, short], ["Cloud-init v. 22.2.2", "BEGIN SSH HOST KEY FINGERPRINTS", "DataSourceEc2Local"]


def _v13_ecs_config(g: Gen):
    r, a, cl = g.region(), g.account(), g.name(g.pick(["pms", "ms", "msn"]))
    ci = [g.alnum(32, _HEX) for _ in range(2)]
    text = ("#!/bin/bash\n# launch template user data (ECS-optimized AL2023)\ncat <<'EOF' >> /etc/ecs/ecs.config\n"
            f"ECS_CLUSTER={cl}\nECS_ENABLE_SPOT_INSTANCE_DRAINING=true\nECS_CONTAINER_STOP_TIMEOUT=90s\n"
            'ECS_CONTAINER_INSTANCE_TAGS={"team":"payments"}\nECS_ENABLE_CONTAINER_METADATA=true\nEOF\n\n'
            f"$ aws ecs list-container-instances --cluster {cl} --status DRAINING\n"
            + json.dumps({"containerInstanceArns": [f"arn:aws:ecs:{r}:{a}:container-instance/{cl}/{c}" for c in ci]}, indent=4) + "\n")
    return text, [cl, a, *ci], ["ECS_ENABLE_SPOT_INSTANCE_DRAINING=true", "ECS_CONTAINER_STOP_TIMEOUT=90s", "--status DRAINING"]


def _v13_nodeadm(g: Gen):
    r, cl, eid = g.region(), g.name(g.pick(["pms", "ms"])), g.alnum(32, "0123456789ABCDEF")
    ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJ" + g.alnum(60, _B64[:62])
    text = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n--BOUNDARY\n"
            "Content-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n"
            "spec:\n  cluster:\n"
            f"    name: {cl}\n    apiServerEndpoint: https://{eid}.gr7.{r}.eks.amazonaws.com\n"
            f"    certificateAuthority: {ca}\n    cidr: 172.20.0.0/16\n  kubelet:\n    config:\n      maxPods: 58\n"
            "    flags:\n      - --node-labels=workload=batch,karpenter.sh/capacity-type=spot\n\n--BOUNDARY--\n\n"
            "# the AL2 equivalent we are replacing:\n"
            f"/etc/eks/bootstrap.sh {cl} --apiserver-endpoint 'https://{eid}.gr7.{r}.eks.amazonaws.com' "
            "--b64-cluster-ca \"$CA\" --container-runtime containerd --kubelet-extra-args '--max-pods=58'\n")
    return text, [cl, eid], ["node.eks.aws/v1alpha1", "maxPods: 58", "karpenter.sh/capacity-type=spot"]


def _v13_ec2launch(g: Gen):
    r, i, b = g.region(), g.iid(), g.bucket()
    host = "EC2AMAZ-" + g.alnum(7, _V13_UPPER)
    text = ("PS C:\\> Get-Content C:\\ProgramData\\Amazon\\EC2Launch\\log\\agent.log -Tail 9\n"
            "2024-05-14 10:11:41 Info: EC2Launch Service starting\n"
            "2024-05-14 10:11:41 Info: Version: 2.0.1924\n"
            f"2024-05-14 10:11:42 Info: Instance ID: {i}\n"
            f"2024-05-14 10:11:42 Info: Region: {r}\n"
            f"2024-05-14 10:11:43 Info: Stage: preReady completed. Hostname {host}\n"
            "2024-05-14 10:11:55 Info: Run: executeScript\n"
            f"2024-05-14 10:11:58 Info: Script output: Copy-S3Object -BucketName {b} -Key installers/agent.msi -LocalFile C:\\Temp\\agent.msi\n"
            "2024-05-14 10:12:31 Error: Script exited with code 1603\n"
            "2024-05-14 10:12:31 Info: Stage: postReady completed with errors\n")
    return text, [i, b], ["EC2Launch Service starting", "Version: 2.0.1924", "exited with code 1603"]


def _v13_ps_transcript(g: Gen):
    a, i, b, role = g.account(), g.iid(), g.bucket(), g.name("pms")
    host = "EC2AMAZ-" + g.alnum(7, _V13_UPPER)
    text = ("**********************\nWindows PowerShell transcript start\nStart time: 20240514101203\n"
            f"Username: {host}\\Administrator\nRunAs User: {host}\\Administrator\nConfiguration Name: \n"
            f"Machine: {host} (Microsoft Windows NT 10.0.20348.0)\nHost Application: C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\n"
            "Process ID: 4312\nPSVersion: 5.1.20348.2400\n**********************\n"
            "PS C:\\Users\\Administrator> Invoke-RestMethod http://169.254.169.254/latest/meta-data/instance-id\n"
            f"{i}\nPS C:\\Users\\Administrator> (Get-STSCallerIdentity).Arn\n"
            f"arn:aws:sts::{a}:assumed-role/{role}/{i}\n"
            f"PS C:\\Users\\Administrator> Write-S3Object -BucketName {b} -File C:\\logs\\iis.zip -Key diag/{i}/iis.zip\n"
            "PS C:\\Users\\Administrator> Stop-Transcript\n**********************\nWindows PowerShell transcript end\n"
            "End time: 20240514101329\n**********************\n")
    return text, [i, a, role, b], ["Windows PowerShell transcript start", "169.254.169.254", "PSVersion: 5.1.20348.2400"]


def _v13_ansible_run(g: Gen):
    r, a, i, vpc, sub, prof = g.region(), g.account(), g.iid(), g.hexid("vpc"), g.hexid("subnet"), g.name("pms")
    aipa, ami = "AIPA" + g.alnum(17, _B32), g.hexid("ami")
    res = {"changed": True, "instance_ids": [i], "instances": [{
        "ami_launch_index": 0, "image_id": ami, "instance_id": i, "instance_type": "t3.medium",
        "iam_instance_profile": {"arn": f"arn:aws:iam::{a}:instance-profile/{prof}", "id": aipa},
        "placement": {"availability_zone": r + "b"}, "subnet_id": sub, "vpc_id": vpc, "state": {"code": 16, "name": "running"}}]}
    text = ("PLAY [launch workers] **********************************************************\n\n"
            "TASK [amazon.aws.ec2_instance : launch] ****************************************\n"
            f"changed: [localhost] => {json.dumps(res)}\n\n"
            "PLAY RECAP *********************************************************************\n"
            "localhost                  : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0\n")
    return text, [i, a, vpc, sub, prof, aipa, ami], ["PLAY RECAP", "amazon.aws.ec2_instance", '"instance_type": "t3.medium"']


def _v13_ohai(g: Gen):
    r, a, i, ami, sg, sub, vpc, prof = (g.region(), g.account(), g.iid(), g.hexid("ami"), g.hexid("sg"), g.hexid("subnet"),
                                        g.hexid("vpc"), g.name("pms"))
    aipa, mac = "AIPA" + g.alnum(17, _B32), ":".join(g.alnum(2, _HEX) for _ in range(6))
    host = _node_host(g, r)
    out = {"ami_id": ami, "ami_launch_index": "0", "ami_manifest_path": "(unknown)", "hostname": host,
           "iam": {"info": {"Code": "Success", "LastUpdated": "2024-05-14T10:01:17Z",
                            "InstanceProfileArn": f"arn:aws:iam::{a}:instance-profile/{prof}", "InstanceProfileId": aipa}},
           "instance_id": i, "instance_type": "c6i.2xlarge", "mac": mac,
           "network_interfaces_macs": {mac: {"device_number": "0", "owner_id": a, "security_group_ids": sg,
                                             "subnet_id": sub, "vpc_id": vpc}},
           "placement_availability_zone": r + "a", "region": r, "account_id": a}
    text = "$ sudo ohai ec2\n" + json.dumps(out, indent=2) + "\n"
    return text, [a, i, ami, sg, sub, vpc, prof, aipa, host], ['"instance_type": "c6i.2xlarge"', "ami_manifest_path"]


# delivery, dashboards, wiki, git
def _v13_flux_ecr(g: Gen):
    r, a, repo, chart = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms")
    text = ("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: platform-config\n"
            "  namespace: flux-system\nspec:\n  interval: 5m\n  provider: aws\n"
            f"  url: oci://{a}.dkr.ecr.{r}.amazonaws.com/{repo}\n  ref:\n    tag: latest\n---\n"
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: internal-charts\n"
            "  namespace: flux-system\nspec:\n  type: oci\n  provider: aws\n"
            f"  url: oci://{a}.dkr.ecr.{r}.amazonaws.com/charts\n---\n"
            "$ flux get sources helm -A\nNAMESPACE  \tNAME           \tREVISION\tSUSPENDED\tREADY\tMESSAGE\n"
            "flux-system\tinternal-charts\t        \tFalse    \tFalse\tfailed to login to registry "
            f"'{a}.dkr.ecr.{r}.amazonaws.com': unable to get authorization token\n"
            f"$ flux get sources helm -A  # chart {chart} pending\n")
    return text, [a, repo, chart], ["source.toolkit.fluxcd.io/v1beta2", "provider: aws", "unable to get authorization token"]


def _v13_datadog_dash(g: Gen):
    a, q, fn, i = g.account(), g.name(g.pick(["pms", "msn"])), g.name(g.pick(["pms", "ms"])), g.iid()
    dash = {"title": "Checkout – queue health", "layout_type": "ordered",
            "template_variables": [{"name": "account", "prefix": "aws_account", "available_values": [], "default": a}],
            "widgets": [
                {"definition": {"type": "timeseries", "title": "Backlog",
                                "requests": [{"q": f"avg:aws.sqs.approximate_number_of_messages_visible{{queuename:{q},$account}} by {{queuename}}",
                                              "display_type": "line"}]}},
                {"definition": {"type": "query_value", "title": "Lambda errors",
                                "requests": [{"q": f"sum:aws.lambda.errors{{functionname:{fn}}}.as_count()", "aggregator": "sum"}]}},
                {"definition": {"type": "event_stream", "query": f"sources:cloudwatch host:{i} status:error"}}]}
    text = json.dumps(dash, indent=2, ensure_ascii=False) + "\n"
    return text, [a, q, fn, i], ["aws.sqs.approximate_number_of_messages_visible", ".as_count()", '"prefix": "aws_account"']


def _v13_nrql(g: Gen):
    a, i, fn, lg = g.account(), g.iid(), g.name(g.pick(["pms", "ms"])), g.name("ms")
    text = ("-- CPU of the noisy worker\n"
            "SELECT average(provider.cpuUtilization.Average) FROM ComputeSample WHERE provider = 'Ec2Instance' "
            f"AND entityName = '{i}' SINCE 3 hours ago TIMESERIES\n\n"
            "-- errors from the function, by account\n"
            f"FROM Log SELECT count(*) WHERE aws.logGroup = '/aws/lambda/{fn}' AND aws.accountId = '{a}' "
            "AND level = 'ERROR' FACET aws.logStream SINCE 1 day ago\n\n"
            f"FROM AwsLambdaInvocationError SELECT count(*) WHERE aws.lambda.arn LIKE '%:{a}:function:{lg}%' SINCE today\n")
    return text, [a, i, fn, lg], ["provider.cpuUtilization.Average", "ComputeSample", "FACET aws.logStream"]


def _v13_confluence_runbook(g: Gen):
    r, a, i, cl, q = g.region(), g.account(), g.iid(), g.name(g.pick(["pms", "ms"])), g.name("msn")
    qurl = quote(f"https://sqs.{r}.amazonaws.com/{a}/{q}", safe="")
    text = ("h2. Aurora failover runbook\n"
            f"{{info}}Run from the bastion {{{{{i}}}}} in account *{a}* ({r}).{{info}}\n\n"
            "||Step||Command||Owner||\n"
            f"|1|Pause consumers on [the queue|https://{r}.console.aws.amazon.com/sqs/v2/home?region={r}#/queues/{qurl}]|[~j.nakamura]|\n"
            f"|2|{{{{aws rds failover-db-cluster --db-cluster-identifier {cl}}}}}|[~a.okafor]|\n"
            "|3|Watch replica lag in the dashboard|on-call|\n\n"
            "{code:language=bash|title=verify}\n"
            f"aws rds describe-db-clusters --db-cluster-identifier {cl} \\\n  --query 'DBClusters[0].DBClusterMembers'\n"
            "{code}\n{warning}Do not fail over during the 02:00 UTC batch window.{warning}\n")
    return text, [a, i, cl, q], ["h2. Aurora failover runbook", "{warning}Do not fail over", "[~j.nakamura]"]


def _v13_git_log(g: Gen):
    a, a2, q, b, role = g.account(), g.account(), g.name("msn"), g.bucket(), g.name("pms")
    sha1, sha2, sha3 = g.alnum(40, _HEX), g.alnum(40, _HEX), g.alnum(40, _HEX)
    text = ("$ git log -3 --format='commit %H%nAuthor: %an <%ae>%n%n    %s%n%n%b' -- infra/\n"
            f"commit {sha1}\nAuthor: Ana Okafor <a.okafor@example.com>\n\n"
            f"    fix(infra): point the worker at {q} in {a}\n\n"
            f"    The old bucket {b} is gone since the account move; the worker now\n"
            f"    assumes {role} (arn:aws:iam::{a2}:role/{role}) to read it.\n\n    Refs: OPS-2291\n\n"
            f"commit {sha2}\nAuthor: Dario Alvarez <d.alvarez@example.com>\n\n"
            "    chore: bump hashicorp/aws to 5.49.0\n\n"
            f"commit {sha3}\nAuthor: Ana Okafor <a.okafor@example.com>\n\n"
            f"    revert \"move {q} to {a2}\"\n\n    This reverts commit {sha2[:12]}.\n")
    return text, [a, a2, q, b, role], [sha1, sha2, sha3, "OPS-2291", "5.49.0"]


# code and scripts
def _v13_r_paws(g: Gen):
    r, a, b, q, t = g.region(), g.account(), g.bucket(), g.name("msn"), g.name("Camel")
    text = ("library(paws)\n\n"
            f"s3 <- paws::s3(config = list(region = \"{r}\"))\n"
            f"sqs <- paws::sqs(config = list(region = \"{r}\"))\n"
            f"ddb <- paws::dynamodb(config = list(region = \"{r}\"))\n\n"
            f"obj <- s3$get_object(Bucket = \"{b}\", Key = \"exports/weekly.csv\")\n"
            "df <- read.csv(text = rawToChar(obj$Body))\n\n"
            f"sqs$send_message(\n  QueueUrl = \"https://sqs.{r}.amazonaws.com/{a}/{q}\",\n"
            "  MessageBody = jsonlite::toJSON(list(rows = nrow(df)), auto_unbox = TRUE)\n)\n"
            f"ddb$put_item(TableName = '{t}', Item = list(pk = list(S = \"weekly\"), n = list(N = as.character(nrow(df)))))\n")
    return text, [b, a, q, t], ["paws::s3", "jsonlite::toJSON", "rawToChar"]


def _v13_sts_profiles(g: Gen):
    accts = [g.account() for _ in range(3)]
    aroas = [_aroa(g) for _ in range(3)]
    who = g.person()
    lines = ["$ for p in dev staging prod; do echo \"$p:\"; aws sts get-caller-identity --profile \"$p\" --output yaml | sed 's/^/  /'; done"]
    for p, ac, ar, ps in zip(["dev", "staging", "prod"], accts, aroas, ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"], strict=True):
        lines += [f"{p}:", f"  Account: '{ac}'",
                  f"  Arn: arn:aws:sts::{ac}:assumed-role/AWSReservedSSO_{ps}_{g.alnum(16, _HEX)}/{who}",
                  f"  UserId: {ar}:{who}"]
    return "\n".join(lines) + "\n", [*accts, *aroas], ["get-caller-identity", "--output yaml"]


# prose and chat
def _v13_pt_br_chat(g: Gen):
    a, fn, b, i = g.account(), g.name(g.pick(["pms", "ms"])), g.bucket(), g.iid()
    text = (f"[14/05/2024 10:12] Rafael: gente, a lambda {fn} tá estourando timeout desde o deploy 😩\n"
            f"[14/05/2024 10:13] Bianca: na conta {a}? vou olhar o CloudWatch\n"
            f"[14/05/2024 10:15] Bianca: ela tá tentando ler do bucket {b} e tomando AccessDenied\n"
            f"[14/05/2024 10:16] Rafael: ah, a EC2 {i} também parou de subir arquivo pra lá, deve ser a mesma policy\n"
            "[14/05/2024 10:17] Bianca: blz, abro um chamado e reverto o PR 1187\n")
    return text, [a, fn, b, i], ["AccessDenied", "[14/05/2024 10:17] Bianca:", "PR 1187"]


def _v13_fr_ca_mail(g: Gen):
    a, db, sg, snap = g.account(), g.name(g.pick(["pms", "ms"])), g.hexid("sg"), g.name("pms")
    text = ("Objet : Migration de la base de facturation — fenêtre de samedi\n\nBonjour l’équipe,\n\n"
            f"Petit rappel : samedi à 22 h (heure de l’Est), on migre l’instance RDS « {db} » du compte {a} "
            "vers Aurora PostgreSQL. Un instantané manuel nommé "
            f"{snap} sera pris juste avant. Le groupe de sécurité {sg} restera attaché pendant la bascule, "
            "donc pas besoin de toucher aux règles du pare-feu.\n\n"
            "Si quelque chose accroche, écrivez-moi sur Teams plutôt que par courriel.\n\nMerci!\nGeneviève\n")
    return text, [a, db, sg, snap], ["Aurora PostgreSQL", "22 h (heure de l’Est)"]


def _v13_ja_ticket(g: Gen):
    a, cl, svc, tg = g.account(), g.name(g.pick(["pms", "ms"])), g.name("ms"), _v13_lb(g)
    text = ("【件名】本番 ECS サービスのタスクが起動直後に停止する\n"
            f"【環境】AWSアカウント：{a}　リージョン：東京\n"
            f"【対象】クラスター「{cl}」／サービス「{svc}」\n"
            "【事象】デプロイ後、タスクが RUNNING になった直後に STOPPED となり、stoppedReason は "
            "「Task failed ELB health checks」です。\n"
            f"【確認済み】ターゲットグループ {tg[0]}（arn の末尾 {tg[1]}）のヘルスチェックパスは /healthz で、"
            "コンテナ側も 200 を返しています。\n【依頼】原因の切り分けをお願いします。\n")
    return text, [a, cl, svc, tg[0], tg[1]], ["Task failed ELB health checks", "【依頼】原因の切り分けをお願いします。"]


def _v13_ko_chat(g: Gen):
    a, b, role, t = g.account(), g.bucket(), g.name("pms"), g.name("Camel")
    text = (f"지훈: 혹시 {b} 버킷 누가 퍼블릭으로 바꿨어요? Security Hub 알림 떴어요 ㅠ\n"
            f"서연: 아 그거 어제 {role} 역할로 배포하면서 정책이 덮어써진 듯요. 계정은 {a} 맞죠?\n"
            f"지훈: 네 맞아요. 그리고 DynamoDB 테이블 {t} 도 PITR 꺼져 있던데 같이 켜 주세요\n"
            "서연: 넵 10분 안에 처리할게요 👍\n")
    return text, [a, b, role, t], ["Security Hub", "PITR", "10분 안에"]


def _v13_vi_chat(g: Gen):
    a, q, fn, i = g.account(), g.name("msn"), g.name(g.pick(["pms", "ms"])), g.iid()
    text = (f"Minh 09:41: anh ơi queue {q} đang dồn khoảng 12k message, chắc con lambda {fn} bị throttle rồi\n"
            f"Lan 09:43: em check account {a} thấy reserved concurrency = 5 thôi, để anh tăng lên 50 nha\n"
            f"Minh 09:44: ok anh. Con EC2 {i} chạy consumer cũ thì tắt luôn được không?\n"
            "Lan 09:46: khoan đã, đợi backlog về 0 rồi tính 😅\n")
    return text, [a, q, fn, i], ["reserved concurrency = 5", "Lan 09:46:"]


def _v13_id_chat(g: Gen):
    a, b, cl, key = g.account(), g.bucket(), g.name(g.pick(["pms", "ms"])), _uuid(g)
    r = g.region()
    text = (f"Dimas: bro, cluster EKS {cl} di akun {a} kok node-nya gak join ya?\n"
            "Sari: udah cek aws-auth ConfigMap? biasanya role node-nya belum di-map\n"
            f"Dimas: udah sih. Tapi log bootstrap-nya aku upload ke s3://{b}/debug/ ya, tolong liatin\n"
            f"Sari: oke, btw bucket itu pakai KMS key arn:aws:kms:{r}:{a}:key/{key}, kamu punya akses decrypt kan?\n"
            "Dimas: wkwk belum, nanti aku minta dulu\n")
    return text, [a, b, cl, key], ["aws-auth ConfigMap", "wkwk belum"]


def _v13_no_prose(g: Gen):
    a, fn, q, stack = g.account(), g.name(g.pick(["pms", "ms"])), g.name("msn"), g.name("Camel")
    text = (f"Hei! Etter deployen i går feiler Lambda-funksjonen {fn} i konto {a} med «Task timed out after 30.03 "
            f"seconds». Meldingene havner i DLQ-en {q}, og CloudFormation-stakken {stack} står fortsatt i "
            "UPDATE_ROLLBACK_FAILED. Kan noen med admin-tilgang se på det før lunsj?")
    return text, [a, fn, q, stack], ["Task timed out after 30.03 seconds", "UPDATE_ROLLBACK_FAILED"]


def _v13_ta_prose(g: Gen):
    a, b, i, role = g.account(), g.bucket(), g.iid(), g.name("pms")
    text = (f"வணக்கம் குழு, கணக்கு {a} இல் உள்ள S3 bucket {b} க்கு நேற்று இரவு முதல் PutObject "
            f"AccessDenied வருகிறது. EC2 instance {i} இல் இயங்கும் backup script, {role} role ஐ "
            "பயன்படுத்துகிறது. KMS key policy மாற்றப்பட்டதா என்று யாராவது சரிபார்க்க முடியுமா?")
    return text, [a, b, i, role], ["PutObject", "KMS key policy"]


# negatives
def _v13_neg_k8s_pods(g: Gen):
    sha, rs = g.alnum(40, _HEX), g.alnum(10, "bcdfghjklmnpqrstvwxz2456789")
    pod = f"checkout-api-{rs}-{g.alnum(5, 'bcdfghjklmnpqrstvwxz2456789')}"
    digest = "sha256:" + g.alnum(64, _HEX)
    text = ("$ kubectl --context kind-local get pods -n shop -o wide\n"
            "NAME                                   READY   STATUS             RESTARTS      AGE   IP           NODE\n"
            f"{pod}   0/1     CrashLoopBackOff   7 (2m ago)    14m   10.244.0.17   kind-control-plane\n"
            f"$ kubectl -n shop get pod {pod} -o jsonpath='{{.status.containerStatuses[0].imageID}}'\n"
            f"ghcr.io/example/checkout-api@{digest}\n"
            f"$ git rev-parse HEAD\n{sha}\n")
    return text, [], [pod, digest, sha, "CrashLoopBackOff", "kind-control-plane"]


def _v13_neg_doc_examples(g: Gen):
    text = ("From the AWS documentation (placeholders, not real values):\n\n"
            "```\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n```\n\n"
            "Replace `123456789012` with your account ID, `amzn-s3-demo-bucket` with your bucket name and "
            "`i-1234567890abcdef0` with your instance ID, for example "
            "`arn:aws:iam::123456789012:role/MyRole`.\n")
    # The placeholders themselves are masked by the README's default policy (documentation_examples: mask),
    # so only the words around them and the demo bucket must come through (relabelled in session 12).
    return text, [], ["amzn-s3-demo-bucket", "From the AWS documentation", "with your instance ID"]


def _v13_neg_pricing(g: Gen):
    rows = [("m7g.large", "us-east-1", "0.0816"), ("m7i.large", "us-east-1", "0.1008"),
            ("c7g.xlarge", "eu-central-1", "0.1673"), ("r6i.2xlarge", "ap-northeast-1", "0.6080")]
    g.r.shuffle(rows)
    text = ("| Instance type | Region | On-Demand $/h | Notes |\n|---|---|---|---|\n"
            + "\n".join(f"| {t} | {r} | {p} | Graviton3 |" if t.startswith(("m7g", "c7g")) else f"| {t} | {r} | {p} | Sapphire Rapids |"
                        for t, r, p in rows)
            + "\n\nAmazon EC2 Savings Plans cover AWS Fargate and AWS Lambda too; RDS needs Reserved Instances.\n")
    return text, [], ["m7g.large", "eu-central-1", "ap-northeast-1", "Amazon EC2 Savings Plans", "AWS Fargate"]


def _v13_neg_deps(g: Gen):
    text = ("# requirements.txt\nboto3==1.34.105\nbotocore==1.34.105\naws-lambda-powertools[tracer]==2.38.1\n\n"
            "// package.json\n\"dependencies\": {\n  \"@aws-sdk/client-s3\": \"^3.577.0\",\n"
            "  \"aws-cdk-lib\": \"2.142.0\",\n  \"constructs\": \"^10.3.0\"\n}\n\n"
            "<!-- pom.xml -->\n<dependency>\n  <groupId>software.amazon.awssdk</groupId>\n  <artifactId>bom</artifactId>\n"
            "  <version>2.25.40</version>\n</dependency>\n\n"
            "# versions.tf\nrequired_providers {\n  aws = { source = \"hashicorp/aws\", version = \"~> 5.49\" }\n}\n"
            "# template.yaml: Runtime: python3.12, Architectures: [arm64]\n")
    return text, [], ["boto3==1.34.105", "@aws-sdk/client-s3", "2.142.0", "software.amazon.awssdk", "2.25.40",
                      "hashicorp/aws", "python3.12"]


def _v13_neg_app_log(g: Gen):
    rid, tp = _uuid(g), f"00-{g.alnum(32, _HEX)}-{g.alnum(16, _HEX)}-01"
    text = (f"2024-05-14T10:12:03.118Z INFO  http request_id={rid} method=GET path=/v2/orders/8812 status=200 "
            "duration_ms=41 host=api.example.com version=4.12.0\n"
            f"2024-05-14T10:12:03.160Z WARN  http request_id={rid} traceparent={tp} retry=1 upstream=payments.example.org:8443\n"
            "2024-05-14T10:12:03.201Z INFO  build commit=3f9c2ab node=v20.12.2 region_label=\"EU West\"\n")
    return text, [], [rid, tp, "api.example.com", "version=4.12.0", "3f9c2ab", "v20.12.2"]


def _v13_neg_aws_managed(g: Gen):
    text = ("Managed things you can reference as they are:\n"
            "- policy `arn:aws:iam::aws:policy/ReadOnlyAccess` and `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`\n"
            "- service principals `lambda.amazonaws.com`, `states.amazonaws.com`, `events.amazonaws.com`\n"
            "- SSM documents `AWS-RunPatchBaseline`, `AWS-StartPortForwardingSession`\n"
            "- the public parameter `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`\n"
            "- WAF rule groups `AWSManagedRulesCommonRuleSet`, `AWSManagedRulesKnownBadInputsRuleSet`\n"
            "- event sources `aws.ec2`, `aws.health`; condition keys `aws:PrincipalOrgID`, `aws:SourceVpce`\n")
    return text, [], ["arn:aws:iam::aws:policy/ReadOnlyAccess", "AWSLambdaBasicExecutionRole", "lambda.amazonaws.com",
                      "AWS-RunPatchBaseline", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                      "AWSManagedRulesCommonRuleSet", "aws:PrincipalOrgID"]


VARIANTS_13: list[Template] = [
    # orchestration and events: Step Functions get-execution-history, a Distributed Map ASL, EventBridge rule and
    # targets, a Pipe, a Scheduler schedule, AppConfig, SSM Run Command, SSM Automation (#0-#7)
    _v13_sfn_history, _v13_sfn_distributed_map, _v13_eb_targets, _v13_pipes, _v13_scheduler, _v13_appconfig,
    _v13_run_command, _v13_automation,
    # SSM and containers: a Session Manager transcript, get-parameters-by-path, ECS Exec, Batch (#8-#11)
    _v13_session_manager, _v13_params_by_path, _v13_ecs_exec, _v13_batch,
    # data and streaming: a Firehose processing-failed record, EMR Serverless, MSK IAM bootstrap, Glue crawler log
    # (#12-#15)
    _v13_firehose_error, _v13_emr_serverless, _v13_msk_iam, _v13_glue_crawler,
    # operations: Backup plan and jobs, Service Quotas, the retirement email, scaling activities, target health table,
    # ACM validation, CloudFront invalidation, a Route 53 change batch, an RDS event via SNS, a Synthetics canary log
    # (#16-#25)
    _v13_backup, _v13_service_quotas, _v13_health_email, _v13_asg_activities, _v13_target_health, _v13_acm,
    _v13_cf_invalidation, _v13_r53_change, _v13_rds_event, _v13_synthetics,
    # security: a WAF log, a Network Firewall alert, a Resolver query log, a Security Hub custom action, GuardDuty
    # Malware Protection for S3, Reachability Analyzer, RAM (#26-#32)
    _v13_waf_log, _v13_nfw_alert, _v13_resolver_log, _v13_sechub_action, _v13_gd_malware_s3, _v13_reachability,
    _v13_ram,
    # organisations and billing: an AFT account request, a Budgets email, a Cost Anomaly alert (#33-#35)
    _v13_aft_request, _v13_budget_email, _v13_cost_anomaly,
    # hosts: console output with cloud-init, ecs.config user data, nodeadm NodeConfig, EC2Launch v2 log, a
    # PowerShell transcript, an ansible-playbook run, ohai ec2 (#36-#42)
    _v13_cloud_init, _v13_ecs_config, _v13_nodeadm, _v13_ec2launch, _v13_ps_transcript, _v13_ansible_run, _v13_ohai,
    # delivery, dashboards, wiki, git: Flux with ECR, a Datadog dashboard, NRQL, a Confluence wiki-markup runbook,
    # git log messages (#43-#47)
    _v13_flux_ecr, _v13_datadog_dash, _v13_nrql, _v13_confluence_runbook, _v13_git_log,
    # code and scripts: R paws, get-caller-identity across profiles as YAML (#48-#49)
    _v13_r_paws, _v13_sts_profiles,
    # prose and chat: Brazilian Portuguese chat, Québec French mail, a Japanese ticket, Korean, Vietnamese and
    # Indonesian chat, Norwegian, Tamil (#50-#57)
    _v13_pt_br_chat, _v13_fr_ca_mail, _v13_ja_ticket, _v13_ko_chat, _v13_vi_chat, _v13_id_chat, _v13_no_prose,
    _v13_ta_prose,
    # negatives: kubectl on a local cluster, documentation placeholders, a pricing table, dependency pins, an app
    # log, AWS-managed names (#58-#63)
    _v13_neg_k8s_pods, _v13_neg_doc_examples, _v13_neg_pricing, _v13_neg_deps, _v13_neg_app_log, _v13_neg_aws_managed,
]


CLASSES: dict[str, list[Template]] = {
    "account-labels": ACCOUNT_LABELS,
    "secret-keys": SECRET_KEYS,
    "prose-tables": PROSE_TABLES,
    "cli-output": CLI_OUTPUT,
    "console-urls": CONSOLE_URLS,
    "aws-hosts": AWS_HOSTS,
    "boundaries": BOUNDARIES,
    "cjk-labels": CJK,
    "label-spellings": LABEL_SPELLINGS,
    "sdk-code": SDK_CODE,
    "iac": IAC,
    "negatives": NEGATIVES,
}
# --- variants-14: a fourteenth held-out list (session 12, a second writer working apart from variants-13's), written by a helper that never read the engine, its packs
# or tools/gen_vocab.py, from the real formats of the tools and files, every value made up here. Orchestration (Step
# Functions get-execution-history, EventBridge Pipes describe-pipe, EventBridge Scheduler get-schedule with an ECS
# RunTask universal target, AppConfig start-deployment and the agent's localhost URL); Systems Manager (send-command /
# get-command-invocation, an Automation execution, a Session Manager transcript with IMDSv2 calls,
# get-parameters-by-path --with-decryption); containers, batch, streaming, file transfer (ECS Exec with the task
# metadata endpoint, Batch describe-jobs, Firehose delivery errors and Kinesis describe-stream-summary, Transfer
# Family describe-server and an sftp session); security services (a WAF log record, Shield list-attacks, Backup
# list-backup-jobs, Service Quotas change history); hosts (Chef ohai ec2, Puppet facter ec2_metadata,
# cloud-init-output.log with EKS bootstrap.sh, journalctl of the SSM agent, fstab / df with EFS, an EFS access point
# and FSx for Lustre, a crontab); CI/CD and platform (CircleCI orbs, Bitbucket Pipelines pipes, a Flux OCIRepository /
# Kustomization, a Backstage catalog-info); observability config (a Datadog dashboard, Vector, Logstash, Alertmanager
# sns_configs); data platforms (a Spark driver log on EMR, an MWAA task log, a Glue crawler log, awswrangler,
# DataSync, a Kafka Connect S3 sink on MSK, Flyway on Aurora, EMR configurations and create-cluster, a DMS task log);
# code and API definitions (Rust, Scala Spark, R paws, OpenAPI with x-amazon-apigateway-*, AppSync data sources and a
# JS resolver, IoT Core with mosquitto_pub); Windows on EC2 (a PowerShell transcript, EC2Launch v2 agent.log and
# Get-WinEvent); human text (Portuguese, French, a Vietnamese chat, an Indonesian WhatsApp chat, the invoice email, a
# Notion runbook, a Confluence runbook, a merge conflict in tfvars); tool output (an Ansible playbook run, sts
# get-caller-identity per profile as YAML, FSx for Windows); negatives woven in (Step Functions state names,
# AWS-managed strategy / policy / role names, universal target ARNs, AZ IDs, command / job / query IDs, SHAs,
# versions) and six negative-only templates; 64 templates. Measured as it came out (report seed 13, 5 per template):
# 83.2 % recall (1148 of 1380 values, text and JSON alike), 40.6 % pass, 85.9 % kept, 38 failing templates (29 leak a
# value only, 6 only change a must-keep value: #0, #4, #9, #14, #42, #59; 3 both: #2, #3, #11); seed 7 (1 per
# template): 83.0 % (229 of 276), 40.6 % pass, 55 of 64 must-keep cases kept, the same 38 templates. The misses: names
# and IDs in tool output fields and log text (the Scheduler's cluster and task family inside the escaped Input JSON
# #2, the AppConfig application name in a comment and the agent URL #3, the decrypted SecureString password #7, the
# ECS task ID in 169.254.170.2 agent / metadata URIs #8, the Transfer bucket and user in sftp paths and user@host #11,
# the WAF web ACL name in a log label and the ALB name and ID in httpSourceId #12, ohai's key-pair name after an
# ssh-rsa key and security-group names #16, the EKS cluster as bootstrap.sh's argument #18, the FSx for Lustre mount
# name after @tcp:/ #20); CI and config keys (CircleCI repo: #22, Logstash sqs queue => #28, Alertmanager attributes
# cluster: #29); data platforms (the Glue database in a Spark driver log #30, the MWAA environment in its log group
# #31, the crawler's database #32, awswrangler database= / workgroup= #33, a DataSync location ID in a comment #34,
# Flyway's s3:BUCKET/ location #36, EMR's Glue catalog ID (the account), bare KMS key ID, InstanceProfile= and
# security configuration #37, the DMS log group #38); code (Rust const BUCKET / TABLE #39, a Scala
# writeTo("glue_catalog.DB.table") #40, a database in R's SQL string #41); a Directory Service ID inside an SSM
# document name #46; prose and chat (Portuguese #47, Vietnamese #49, Indonesian #50; French passes), the invoice
# email's linked accounts and names #51, a Lambda name in a Notion <aside> #52, Confluence {{role}} and
# {{cluster-old}} #53, an Ansible loop item's secret name #55, an FSx amznfsx DNS name #57. Must-keep values changed:
# a Step Functions state name under "name" #0, the Run Command ID in its S3 output URLs #4, a Batch job ID and
# ecsTaskExecutionRole #9, the universal target arn:aws:scheduler:::aws-sdk:ecs:runTask #2,
# AppConfig.Linear50PercentEvery30Seconds #3, TransferSecurityPolicy-2024-01 #11, AWSBackupDefaultServiceRole #14,
# "path/2015-03-31/functions/" inside an API Gateway integration URI #42 (rewritten with the function ARN after it),
# and the AWS documentation placeholders AKIAIOSFODNN7EXAMPLE, amzn-s3-demo-bucket, 111122223333 and
# i-1234567890abcdef0 #59 (the EXAMPLEKEY secret kept). Four labels were corrected after a first run (82.9 %, 81.2 %
# kept): a log-group prefix /aws/vendedlogs/pipes/ #1, an AppSync data source named NONE_DS #43 and the
# AWSReservedSSO_ role-name prefix #56 were must-keep but sit in customer names the masker may replace whole, and a
# CloudWatch metric namespace #21 was must-mask but names no AWS resource; all four are now neither.
# Never tuned to. ---------------------------------------------------------------------------------------------
_V14_AZID = {"us-east-1": "use1-az4", "us-east-2": "use2-az1", "us-west-2": "usw2-az2", "eu-west-1": "euw1-az3",
             "eu-central-1": "euc1-az2", "ap-southeast-2": "apse2-az1", "ap-northeast-1": "apne1-az4",
             "sa-east-1": "sae1-az1", "ca-central-1": "cac1-az1", "eu-north-1": "eun1-az2"}


def _v14_when(g: Gen) -> str:
    return f"2024-05-{g.r.randint(10, 28)}T{g.r.randint(10, 23)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}"


def _v14_lname(g: Gen) -> str:
    """A lower-case hyphenated name (tools that lower-case tags, DNS labels)."""
    return g.name(g.pick(["pms", "ms", "msn"]))


def _v14_mac(g: Gen) -> str:
    return "0" + g.pick("26ae") + ":" + ":".join(g.alnum(2, _HEX) for _ in range(5))


def _v14_dist(g: Gen) -> str:
    return "E" + g.alnum(13, _UPPER_ALNUM)


def _v14_zone(g: Gen) -> str:
    return "Z" + g.alnum(g.pick([13, 20]), _UPPER_ALNUM)


# orchestration: Step Functions history, EventBridge Pipes and Scheduler, AppConfig
def _v14_sfn_history(g: Gen):
    r, a, sm, fn, b = g.region(), g.account(), g.name(g.pick(["pms", "Camel"])), g.name("pms"), g.bucket()
    ex, h = _uuid(g), g.alnum(8)
    role = f"arn:aws:iam::{a}:role/service-role/StepFunctions-{sm}-role-{h}"
    order = f"A-{g.r.randint(1000, 9999)}"
    inp = json.dumps({"orderId": order, "bucket": b, "key": f"incoming/{order}.json"}, separators=(",", ":"))
    params = json.dumps({"FunctionName": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST",
                         "Payload": {"orderId": order}}, separators=(",", ":"))
    cause = json.dumps({"errorMessage": "An error occurred (AccessDenied) when calling the GetObject operation: "
                                        "Access Denied", "errorType": "ClientError",
                        "requestId": _uuid(g), "stackTrace": ["  File \"/var/task/app.py\", line 41, in handler\n"]})
    t = _v14_when(g)
    ev = [{"timestamp": f"{t}.118000+00:00", "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
           "executionStartedEventDetails": {"input": inp, "inputDetails": {"truncated": False}, "roleArn": role}},
          {"timestamp": f"{t}.164000+00:00", "type": "TaskStateEntered", "id": 2, "previousEventId": 0,
           "stateEnteredEventDetails": {"name": "ChargeCard", "input": inp, "inputDetails": {"truncated": False}}},
          {"timestamp": f"{t}.164000+00:00", "type": "TaskScheduled", "id": 3, "previousEventId": 2,
           "taskScheduledEventDetails": {"resourceType": "lambda", "resource": "invoke", "region": r,
                                         "parameters": params}},
          {"timestamp": f"{t}.902000+00:00", "type": "TaskFailed", "id": 5, "previousEventId": 4,
           "taskFailedEventDetails": {"resourceType": "lambda", "resource": "invoke", "error": "Lambda.Unknown",
                                      "cause": cause}}]
    text = (f"$ aws stepfunctions get-execution-history --execution-arn "
            f"arn:aws:states:{r}:{a}:execution:{sm}:{ex} --max-items 4\n"
            + json.dumps({"events": ev, "NextToken": g.alnum(40, _B64[:62])}, indent=4) + "\n")
    return text, [a, sm, fn, b], ['"type": "ExecutionStarted"', "Lambda.Unknown", '"name": "ChargeCard"',
                                  "\\\"errorType\\\": \\\"ClientError\\\""]


def _v14_pipe(g: Gen):
    r, a, pipe, q, fn = g.region(), g.account(), g.name("pms"), g.name(), g.name("pms")
    sm, role = g.name(g.pick(["pms", "Camel"])), g.name("pms")
    out = {"Arn": f"arn:aws:pipes:{r}:{a}:pipe/{pipe}", "Name": pipe, "DesiredState": "RUNNING",
           "CurrentState": "RUNNING", "StateReason": "USER_INITIATED",
           "Source": f"arn:aws:sqs:{r}:{a}:{q}",
           "SourceParameters": {"SqsQueueParameters": {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 5},
                                "FilterCriteria": {"Filters": [{"Pattern": "{\"body\":{\"status\":[\"FAILED\"]}}"}]}},
           "Enrichment": f"arn:aws:lambda:{r}:{a}:function:{fn}",
           "EnrichmentParameters": {},
           "Target": f"arn:aws:states:{r}:{a}:stateMachine:{sm}",
           "TargetParameters": {"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}},
           "RoleArn": f"arn:aws:iam::{a}:role/service-role/{role}",
           "Tags": {"team": "payments"},
           "CreationTime": "2024-04-30T11:02:48+02:00", "LastModifiedTime": "2024-05-13T17:20:05+02:00",
           "LogConfiguration": {"CloudwatchLogsLogDestination": {
               "LogGroupArn": f"arn:aws:logs:{r}:{a}:log-group:/aws/vendedlogs/pipes/{pipe}"},
               "Level": "ERROR", "IncludeExecutionData": ["ALL"]}}
    text = f"$ aws pipes describe-pipe --name {pipe}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, pipe, q, fn, sm, role], ["FIRE_AND_FORGET", '"DesiredState": "RUNNING"', "USER_INITIATED",
                                              '"Level": "ERROR"']


def _v14_scheduler(g: Gen):
    r, a, grp, sch = g.region(), g.account(), g.name("ms"), g.name("pms")
    cl, fam, role = g.name(g.pick(["pms", "ms"])), g.name("pms"), g.name("pms")
    sn, sg = g.hexid("subnet"), g.hexid("sg")
    inp = json.dumps({"Cluster": cl, "TaskDefinition": f"{fam}:{g.r.randint(3, 60)}", "LaunchType": "FARGATE",
                      "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [sn], "SecurityGroups": [sg],
                                                                       "AssignPublicIp": "DISABLED"}}})
    out = {"ActionAfterCompletion": "NONE", "Arn": f"arn:aws:scheduler:{r}:{a}:schedule/{grp}/{sch}",
           "CreationDate": "2024-05-02T09:14:53.204000+00:00", "FlexibleTimeWindow": {"Mode": "OFF"},
           "GroupName": grp, "LastModificationDate": "2024-05-13T08:01:12.337000+00:00", "Name": sch,
           "ScheduleExpression": "cron(0 3 * * ? *)", "ScheduleExpressionTimezone": "Europe/Berlin",
           "State": "ENABLED",
           "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:ecs:runTask", "Input": inp,
                      "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                      "RoleArn": f"arn:aws:iam::{a}:role/{role}"}}
    text = (f"$ aws scheduler get-schedule --group-name {grp} --name {sch}\n" + json.dumps(out, indent=4) + "\n")
    return text, [a, grp, sch, cl, fam, role, sn, sg], ["arn:aws:scheduler:::aws-sdk:ecs:runTask", "cron(0 3 * * ? *)",
                                                         "Europe/Berlin", '"ActionAfterCompletion": "NONE"']


def _v14_appconfig(g: Gen):
    r, a, key = g.region(), g.account(), _uuid(g)
    app_id, env_id, prof_id = g.alnum(7), g.alnum(7), g.alnum(7)
    app, env = g.name(g.pick(["ms", "pms"])), g.pick(["prod", "production", "live"])
    out = {"ApplicationId": app_id, "EnvironmentId": env_id,
           "DeploymentStrategyId": "AppConfig.Linear50PercentEvery30Seconds", "ConfigurationProfileId": prof_id,
           "DeploymentNumber": g.r.randint(2, 40), "ConfigurationName": "feature-flags",
           "ConfigurationLocationUri": "hosted", "ConfigurationVersion": str(g.r.randint(2, 30)),
           "DeploymentDurationInMinutes": 1, "GrowthType": "LINEAR", "GrowthFactor": 50.0,
           "FinalBakeTimeInMinutes": 1, "State": "DEPLOYING", "EventLog": [
               {"EventType": "DEPLOYMENT_STARTED", "TriggeredBy": "USER", "Description": "Deployment started",
                "OccurredAt": "2024-05-14T10:02:11.482000+00:00"}],
           "PercentageComplete": 0.0, "StartedAt": "2024-05-14T10:02:11.482000+00:00",
           "KmsKeyArn": f"arn:aws:kms:{r}:{a}:key/{key}", "KmsKeyIdentifier": key}
    text = (f"$ aws appconfig start-deployment --application-id {app_id} --environment-id {env_id} "
            f"--deployment-strategy-id AppConfig.Linear50PercentEvery30Seconds --configuration-profile-id {prof_id} "
            f"--configuration-version {out['ConfigurationVersion']}\n" + json.dumps(out, indent=4) + "\n"
            f"# from the sidecar, in the {app} task:\n"
            f"$ curl -s http://localhost:2772/applications/{app}/environments/{env}/configurations/feature-flags\n"
            '{"checkout-v2":{"enabled":true},"dark-mode":{"enabled":false}}\n')
    return text, [app_id, env_id, prof_id, a, key, app], ["AppConfig.Linear50PercentEvery30Seconds",
                                                          "http://localhost:2772/applications/",
                                                          '"EventType": "DEPLOYMENT_STARTED"']


# Systems Manager: Run Command, Automation, Session Manager, Parameter Store
def _v14_run_command(g: Gen):
    r, i, b = g.region(), g.iid(), g.bucket()
    cmd = _uuid(g)
    lgn = g.name("ms")
    lg = f"/ssm/{lgn}"
    host = f"ip-{_ip10(g).replace('.', '-')}"
    text = (f"$ aws ssm send-command --document-name AWS-RunShellScript --targets Key=InstanceIds,Values={i} "
            f"--parameters 'commands=[\"df -h /\",\"systemctl is-active nginx\"]' --output-s3-bucket-name {b} "
            f"--output-s3-key-prefix runcommand/ --cloud-watch-output-config CloudWatchOutputEnabled=true,"
            f"CloudWatchLogGroupName={lg} --query Command.CommandId --output text\n{cmd}\n"
            f"$ aws ssm get-command-invocation --command-id {cmd} --instance-id {i}\n"
            + json.dumps({"CommandId": cmd, "InstanceId": i, "Comment": "", "DocumentName": "AWS-RunShellScript",
                          "DocumentVersion": "$DEFAULT", "PluginName": "aws:runShellScript", "ResponseCode": 3,
                          "ExecutionStartDateTime": "2024-05-14T10:02:12.391Z",
                          "ExecutionElapsedTime": "PT0.084S", "ExecutionEndDateTime": "2024-05-14T10:02:12.391Z",
                          "Status": "Failed", "StatusDetails": "Failed",
                          "StandardOutputContent": "Filesystem      Size  Used Avail Use% Mounted on\n"
                                                   "/dev/nvme0n1p1   20G   19G  1.1G  95% /\ninactive\n",
                          "StandardOutputUrl": f"https://s3.{r}.amazonaws.com/{b}/runcommand/{cmd}/{i}/awsrunShellScript/0.awsrunShellScript/stdout",
                          "StandardErrorContent": "failed to run commands: exit status 3",
                          "StandardErrorUrl": f"https://s3.{r}.amazonaws.com/{b}/runcommand/{cmd}/{i}/awsrunShellScript/0.awsrunShellScript/stderr",
                          "CloudWatchOutputConfig": {"CloudWatchLogGroupName": lg, "CloudWatchOutputEnabled": True}},
                         indent=4) + f"\n# ran on {host}\n")
    return text, [i, b, lgn], ["AWS-RunShellScript", "aws:runShellScript", "failed to run commands: exit status 3", cmd]


def _v14_automation(g: Gen):
    r, a, i, role = g.region(), g.account(), g.iid(), g.name("pms")
    ex = _uuid(g)
    out = {"AutomationExecution": {
        "AutomationExecutionId": ex, "DocumentName": "AWS-RestartEC2Instance", "DocumentVersion": "1",
        "ExecutionStartTime": "2024-05-14T10:02:11.904000+00:00", "ExecutionEndTime": "2024-05-14T10:03:40.118000+00:00",
        "AutomationExecutionStatus": "Failed",
        "StepExecutions": [
            {"StepName": "stopInstances", "Action": "aws:changeInstanceState", "StepStatus": "Success",
             "Inputs": {"DesiredState": "\"stopped\"", "InstanceIds": f"[\"{i}\"]"},
             "Outputs": {"CurrentState": ["stopped"]}, "StepExecutionId": _uuid(g)},
            {"StepName": "startInstances", "Action": "aws:changeInstanceState", "StepStatus": "Failed",
             "Inputs": {"DesiredState": "\"running\"", "InstanceIds": f"[\"{i}\"]"},
             "FailureMessage": (f"Step fails when it is changing the state of instances. An error occurred "
                                f"(InsufficientInstanceCapacity) when calling the StartInstances operation "
                                f"(reached max retries: 4): We currently do not have sufficient m6i.2xlarge "
                                f"capacity in the Availability Zone you requested ({r}b)."),
             "StepExecutionId": _uuid(g)}],
        "Parameters": {"AutomationAssumeRole": [f"arn:aws:iam::{a}:role/{role}"], "InstanceId": [i]},
        "Mode": "Auto", "ExecutedBy": f"arn:aws:sts::{a}:assumed-role/{role}/{g.person()}",
        "Targets": [], "ResolvedTargets": {"ParameterValues": [], "Truncated": False}}}
    text = f"$ aws ssm get-automation-execution --automation-execution-id {ex}\n" + json.dumps(out, indent=4) + "\n"
    return text, [i, a, role], ["AWS-RestartEC2Instance", "aws:changeInstanceState", "InsufficientInstanceCapacity",
                                "m6i.2xlarge", ex]


def _v14_session(g: Gen):
    r, a, i, prof = g.region(), g.account(), g.iid(), g.name(g.pick(["pms", "Camel"]))
    aipa, vpc, mac = "AIPA" + g.alnum(17, _B32), g.hexid("vpc"), _v14_mac(g)
    sid = f"{g.person()}-{g.alnum(17, _HEX)}"
    p = f"[ssm-user@ip-{_ip10(g).replace('.', '-')} bin]$"
    md = "http://169.254.169.254/latest"
    text = (f"$ aws ssm start-session --target {i} --region {r}\n\nStarting session with SessionId: {sid}\n"
            f"sh-4.2$ bash\n{p} TOKEN=$(curl -sX PUT {md}/api/token -H \"X-aws-ec2-metadata-token-ttl-seconds: 300\")\n"
            f"{p} curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" {md}/meta-data/iam/info\n"
            "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2024-05-14T09:12:44Z\",\n"
            f"  \"InstanceProfileArn\" : \"arn:aws:iam::{a}:instance-profile/{prof}\",\n"
            f"  \"InstanceProfileId\" : \"{aipa}\"\n}}{p} curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" "
            f"{md}/meta-data/placement/availability-zone-id; echo\n{_V14_AZID[r]}\n"
            f"{p} curl -s -H \"X-aws-ec2-metadata-token: $TOKEN\" {md}/meta-data/network/interfaces/macs/{mac}/vpc-id; echo\n"
            f"{vpc}\n{p} exit\nexit\nsh-4.2$ exit\nexit\n\n\nExiting session with sessionId: {sid}.\n")
    return text, [i, a, prof, aipa, vpc], ["X-aws-ec2-metadata-token-ttl-seconds", _V14_AZID[r],
                                           "http://169.254.169.254/latest/api/token"]


def _v14_params_by_path(g: Gen):
    r, a, app, cl, h = g.region(), g.account(), g.name("ms"), g.name(g.pick(["pms", "ms"])), g.alnum(12)
    q, pw = g.name(), g.alnum(24, _B64[:62])
    host = f"{cl}.cluster-{h}.{r}.rds.amazonaws.com"
    ps = [(f"/{app}/prod/db/host", "String", host), (f"/{app}/prod/db/password", "SecureString", pw),
          (f"/{app}/prod/queue_url", "String", f"https://sqs.{r}.amazonaws.com/{a}/{q}")]
    out = {"Parameters": [{"Name": n, "Type": t, "Value": v, "Version": g.r.randint(1, 9),
                           "LastModifiedDate": f"2024-0{g.r.randint(1, 5)}-1{g.r.randint(0, 9)}T08:14:0{g.r.randint(0, 9)}.118000+00:00",
                           "ARN": f"arn:aws:ssm:{r}:{a}:parameter{n}", "DataType": "text"} for n, t, v in ps]}
    text = (f"$ aws ssm get-parameters-by-path --path /{app}/prod --recursive --with-decryption\n"
            + json.dumps(out, indent=4) + "\n")
    return text, [a, app, cl, h, pw, q], ['"Type": "SecureString"', '"DataType": "text"', "--with-decryption"]


# containers, batch, streaming, file transfer
def _v14_ecs_exec(g: Gen):
    r, a, cl, fam = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("pms")
    task, cred = g.alnum(32, _HEX), _uuid(g)
    text = (f"$ aws ecs execute-command --cluster {cl} --task {task} --container app --interactive --command \"/bin/sh\"\n\n"
            "The Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n\n"
            f"Starting session with SessionId: ecs-execute-command-{g.alnum(17, _HEX)}\n"
            "# env | grep -E '^(AWS|ECS)' | sort\n"
            f"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/{cred}\nAWS_DEFAULT_REGION={r}\n"
            f"AWS_EXECUTION_ENV=AWS_ECS_FARGATE\nAWS_REGION={r}\n"
            f"ECS_AGENT_URI=http://169.254.170.2/api/{task}-{g.r.randint(1000000000, 4000000000)}\n"
            f"ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/{task}-{g.r.randint(1000000000, 4000000000)}\n"
            "# wget -qO- $ECS_CONTAINER_METADATA_URI_V4/task | head -c 240; echo\n"
            f"{{\"Cluster\":\"arn:aws:ecs:{r}:{a}:cluster/{cl}\",\"TaskARN\":\"arn:aws:ecs:{r}:{a}:task/{cl}/{task}\","
            f"\"Family\":\"{fam}\",\"Revision\":\"{g.r.randint(2, 90)}\",\"DesiredStatus\":\"RUNNING\",\"KnownStatus\":\"RUNNING\"\n"
            "# exit\n\n\nExiting session with sessionId: ecs-execute-command-" + g.alnum(17, _HEX) + ".\n")
    return text, [cl, task, a, fam], ["AWS_ECS_FARGATE", "http://169.254.170.2/v4/",
                                      "The Session Manager plugin was installed successfully."]


def _v14_batch(g: Gen):
    r, a, jq, jd, repo = g.region(), g.account(), g.name("pms"), g.name("pms"), g.name("ms")
    job, jid, task = f"nightly-{g.name('ms')}", _uuid(g), g.alnum(32, _HEX)
    rev = g.r.randint(2, 40)
    out = {"jobs": [{"jobArn": f"arn:aws:batch:{r}:{a}:job/{jid}", "jobName": job, "jobId": jid,
                     "jobQueue": f"arn:aws:batch:{r}:{a}:job-queue/{jq}", "status": "FAILED",
                     "attempts": [{"container": {"taskArn": f"arn:aws:ecs:{r}:{a}:task/AWSBatch-{jq}-{_uuid(g)}/{task}",
                                                 "exitCode": 137, "logStreamName": f"{jd}/default/{task}",
                                                 "networkInterfaces": []},
                                   "startedAt": 1715680931118, "stoppedAt": 1715681442903,
                                   "statusReason": "Essential container in task exited"}],
                     "statusReason": "Essential container in task exited",
                     "createdAt": 1715680811402, "retryStrategy": {"attempts": 1, "evaluateOnExit": []},
                     "jobDefinition": f"arn:aws:batch:{r}:{a}:job-definition/{jd}:{rev}",
                     "container": {"image": f"{_ecr(a, r)}/{repo}:2024.05.13", "command": ["python", "run.py"],
                                   "jobRoleArn": f"arn:aws:iam::{a}:role/{jd}-job-role",
                                   "executionRoleArn": f"arn:aws:iam::{a}:role/ecsTaskExecutionRole",
                                   "resourceRequirements": [{"value": "4", "type": "VCPU"},
                                                            {"value": "16384", "type": "MEMORY"}],
                                   "exitCode": 137, "logStreamName": f"{jd}/default/{task}",
                                   "networkConfiguration": {"assignPublicIp": "DISABLED"},
                                   "fargatePlatformConfiguration": {"platformVersion": "LATEST"}},
                     "platformCapabilities": ["FARGATE"], "eksAttempts": []}]}
    text = f"$ aws batch describe-jobs --jobs {jid}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, jq, jd, repo, job, task], ["Essential container in task exited", "platformCapabilities",
                                                "ecsTaskExecutionRole", jid]


def _v14_firehose(g: Gen):
    r, a, ds, b, fn, st = g.region(), g.account(), g.name("pms"), g.bucket(), g.name("pms"), g.name("pms")
    lines = [json.dumps({"deliveryStreamARN": f"arn:aws:firehose:{r}:{a}:deliverystream/{ds}",
                         "destination": f"arn:aws:s3:::{b}", "deliveryStreamVersionId": 3,
                         "message": "Access was denied. Ensure that the trust policy for the provided IAM role "
                                    "allows Firehose to assume the role, and the access policy allows access to "
                                    "the S3 bucket.", "errorCode": "S3.AccessDenied"}, separators=(",", ":")),
             json.dumps({"deliveryStreamARN": f"arn:aws:firehose:{r}:{a}:deliverystream/{ds}",
                         "deliveryStreamVersionId": 3,
                         "message": "The Lambda function was successfully invoked but it returned an error result.",
                         "errorCode": "Lambda.FunctionError",
                         "processor": f"arn:aws:lambda:{r}:{a}:function:{fn}:$LATEST"}, separators=(",", ":"))]
    summ = {"StreamDescriptionSummary": {"StreamName": st, "StreamARN": f"arn:aws:kinesis:{r}:{a}:stream/{st}",
                                         "StreamStatus": "ACTIVE", "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
                                         "RetentionPeriodHours": 24,
                                         "StreamCreationTimestamp": "2023-09-12T14:41:03+00:00",
                                         "EnhancedMonitoring": [{"ShardLevelMetrics": []}], "EncryptionType": "KMS",
                                         "KeyId": "alias/aws/kinesis", "OpenShardCount": 4, "ConsumerCount": 1}}
    text = (f"$ aws logs tail /aws/kinesisfirehose/{ds} --since 1h\n"
            + "\n".join(f"{_v14_when(g)}.{g.r.randint(100, 999)}000+00:00 DestinationDelivery {ln}" for ln in lines)
            + f"\n$ aws kinesis describe-stream-summary --stream-name {st}\n" + json.dumps(summ, indent=4) + "\n")
    return text, [a, ds, b, fn, st], ["S3.AccessDenied", "Lambda.FunctionError", "alias/aws/kinesis",
                                      '"StreamMode": "ON_DEMAND"']


def _v14_transfer(g: Gen):
    r, a, role, b, user = g.region(), g.account(), g.name("pms"), g.bucket(), g.name("ms")
    sid = g.hexid("s")
    host = f"{sid}.server.transfer.{r}.amazonaws.com"
    out = {"Server": {"Arn": f"arn:aws:transfer:{r}:{a}:server/{sid}", "Domain": "S3",
                      "EndpointType": "PUBLIC", "IdentityProviderType": "SERVICE_MANAGED",
                      "LoggingRole": f"arn:aws:iam::{a}:role/{role}", "Protocols": ["SFTP"],
                      "SecurityPolicyName": "TransferSecurityPolicy-2024-01", "ServerId": sid, "State": "ONLINE",
                      "UserCount": 3}}
    text = (f"$ aws transfer describe-server --server-id {sid}\n" + json.dumps(out, indent=4) + "\n"
            f"$ sftp -i ~/.ssh/partner_ed25519 {user}@{host}\n"
            f"Connected to {host}.\nsftp> pwd\nRemote working directory: /{b}/home/{user}\n"
            "sftp> put orders_20240513.csv\nUploading orders_20240513.csv to "
            f"/{b}/home/{user}/orders_20240513.csv\norders_20240513.csv                100%  412KB   1.1MB/s   00:00\n"
            "sftp> bye\n")
    return text, [sid, a, role, b, user], ["SERVICE_MANAGED", "TransferSecurityPolicy-2024-01",
                                           "Remote working directory: /", "orders_20240513.csv"]


# security services: WAF, Shield, Backup, Service Quotas
def _v14_waf_log(g: Gen):
    r, a, acl, aid, alb = g.region(), g.account(), g.name("pms"), _uuid(g), g.name(g.pick(["pms", "ms"]))
    albid, host = g.alnum(16, _HEX), f"api.{g.pick(['example.com', 'example.org'])}"
    rec = {"timestamp": 1715681003118, "formatVersion": 1,
           "webaclId": f"arn:aws:wafv2:{r}:{a}:regional/webacl/{acl}/{aid}",
           "terminatingRuleId": "AWS-AWSManagedRulesSQLiRuleSet", "terminatingRuleType": "MANAGED_RULE_GROUP",
           "action": "BLOCK", "terminatingRuleMatchDetails": [
               {"conditionType": "SQL_INJECTION", "sensitivityLevel": "LOW", "location": "QUERY_STRING",
                "matchedData": ["1", "OR", "1=1"]}],
           "httpSourceName": "ALB", "httpSourceId": f"{a}-app/{alb}/{albid}",
           "ruleGroupList": [{"ruleGroupId": "AWS#AWSManagedRulesSQLiRuleSet",
                              "terminatingRule": {"ruleId": "SQLi_QUERYARGUMENTS", "action": "BLOCK",
                                                  "ruleMatchDetails": None},
                              "nonTerminatingMatchingRules": [], "excludedRules": None}],
           "rateBasedRuleList": [], "nonTerminatingMatchingRules": [],
           "httpRequest": {"clientIp": f"198.51.100.{g.r.randint(2, 250)}", "country": "NL",
                           "headers": [{"name": "Host", "value": host}, {"name": "User-Agent", "value": "sqlmap/1.8"}],
                           "uri": "/v1/search", "args": "q=1%27%20OR%201=1--", "httpVersion": "HTTP/1.1",
                           "httpMethod": "GET", "requestId": _v12_trace(g)},
           "labels": [{"name": "awswaf:managed:aws:sql-database:SQLi_QueryArguments"}]}
    text = (f"{{\"_source\": \"aws-waf-logs-{acl}\"}}\n" + json.dumps(rec, separators=(",", ":")) + "\n")
    return text, [a, acl, aid, alb, albid], ["AWS-AWSManagedRulesSQLiRuleSet", "MANAGED_RULE_GROUP",
                                             "awswaf:managed:aws:sql-database:SQLi_QueryArguments", "sqlmap/1.8"]


def _v14_shield(g: Gen):
    a, dist, eip = g.account(), _v14_dist(g), g.hexid("eipalloc")
    r = g.region()
    att1, att2 = _uuid(g), _uuid(g)
    out = {"AttackSummaries": [
        {"AttackId": att1, "ResourceArn": f"arn:aws:cloudfront::{a}:distribution/{dist}",
         "StartTime": "2024-05-13T22:41:00+00:00", "EndTime": "2024-05-13T23:02:00+00:00",
         "AttackVectors": [{"VectorType": "SYN_FLOOD"}]},
        {"AttackId": att2, "ResourceArn": f"arn:aws:ec2:{r}:{a}:eip-allocation/{eip}",
         "StartTime": "2024-05-14T03:10:00+00:00", "EndTime": "2024-05-14T03:31:00+00:00",
         "AttackVectors": [{"VectorType": "UDP_REFLECTION"}, {"VectorType": "DNS_REFLECTION"}]}]}
    text = ("$ aws shield list-attacks --start-time FromInclusive=2024-05-13T00:00:00Z\n"
            + json.dumps(out, indent=4) + "\n")
    return text, [a, dist, eip], ["SYN_FLOOD", "UDP_REFLECTION", "DNS_REFLECTION", att1]


def _v14_backup(g: Gen):
    r, a, vault, db = g.region(), g.account(), g.name("pms"), g.name(g.pick(["pms", "msn"]))
    vol, snap = g.hexid("vol"), g.hexid("snap")
    plan, rule = _uuid(g), _uuid(g)
    def job(arn, rtype, rname, state, msg, rp):
        return {"AccountId": a, "BackupJobId": _uuid(g).upper(), "BackupVaultName": vault,
                "BackupVaultArn": f"arn:aws:backup:{r}:{a}:backup-vault:{vault}",
                **({"RecoveryPointArn": rp} if rp else {}), "ResourceArn": arn,
                "CreationDate": "2024-05-14T01:00:00+00:00", "State": state, "StatusMessage": msg,
                "PercentDone": "0.0", "IamRoleArn": f"arn:aws:iam::{a}:role/service-role/AWSBackupDefaultServiceRole",
                "CreatedBy": {"BackupPlanId": plan, "BackupPlanArn": f"arn:aws:backup:{r}:{a}:backup-plan:{plan}",
                              "BackupPlanVersion": g.alnum(48, _MIXED_ALNUM), "BackupRuleId": rule},
                "ResourceType": rtype, "ResourceName": rname}
    out = {"BackupJobs": [job(f"arn:aws:rds:{r}:{a}:db:{db}", "RDS", db, "FAILED",
                              "Backup job failed because the DB instance is in state stopped.", None),
                          job(f"arn:aws:ec2:{r}:{a}:volume/{vol}", "EBS", "", "COMPLETED", "",
                              f"arn:aws:ec2:{r}::snapshot/{snap}")]}
    text = "$ aws backup list-backup-jobs --by-created-after 2024-05-14\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, vault, db, vol, snap], ["AWSBackupDefaultServiceRole", '"State": "FAILED"',
                                             "Backup job failed because the DB instance is in state stopped."]


def _v14_quotas(g: Gen):
    r, a, user = g.region(), g.account(), g.name("ms")
    req = g.alnum(32, _HEX)
    out = {"RequestedQuotas": [{
        "Id": req, "CaseId": str(g.r.randint(17100000000, 17199999999)), "ServiceCode": "ec2",
        "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)", "QuotaCode": "L-1216C47A",
        "QuotaName": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "DesiredValue": 512.0,
        "Status": "CASE_OPENED", "Created": "2024-05-14T10:02:11.482000+00:00",
        "LastUpdated": "2024-05-14T10:02:14.118000+00:00",
        "Requester": json.dumps({"accountId": a, "callerArn": f"arn:aws:iam::{a}:user/{user}"}, separators=(",", ":")),
        "QuotaArn": f"arn:aws:servicequotas:{r}:{a}:ec2/L-1216C47A", "GlobalQuota": False, "Unit": "None",
        "QuotaRequestedAtLevel": "ACCOUNT"}]}
    text = ("$ aws service-quotas list-requested-service-quota-change-history --service-code ec2\n"
            + json.dumps(out, indent=4) + "\n")
    return text, [a, user], ["L-1216C47A", "CASE_OPENED", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"]


# hosts: Chef ohai, Puppet facter, cloud-init, journalctl, fstab / df, crontab
def _v14_ohai(g: Gen):
    r, a, i, ami, prof = g.region(), g.account(), g.iid(), g.hexid("ami"), g.name(g.pick(["pms", "Camel"]))
    aipa, kp, sgn, resv = "AIPA" + g.alnum(17, _B32), g.name("ms"), g.name("pms"), g.hexid("r")
    ip = _ip10(g)
    host = f"ip-{ip.replace('.', '-')}." + ("ec2.internal" if r == "us-east-1" else f"{r}.compute.internal")
    out = {"ami_id": ami, "ami_launch_index": "0", "ami_manifest_path": "(unknown)",
           "block_device_mapping_ami": "/dev/xvda", "block_device_mapping_root": "/dev/xvda", "hostname": host,
           "iam": {"info": {"Code": "Success", "LastUpdated": "2024-05-14T09:12:44Z",
                            "InstanceProfileArn": f"arn:aws:iam::{a}:instance-profile/{prof}",
                            "InstanceProfileId": aipa}},
           "instance_action": "none", "instance_id": i, "instance_life_cycle": "on-demand",
           "instance_type": "m5.large", "local_hostname": host, "local_ipv4": ip, "mac": _v14_mac(g),
           "placement_availability_zone": r + "a", "placement_region": r, "profile": "default-hvm",
           "public_keys_0_openssh_key": f"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{g.alnum(40, _B64)} {kp}",
           "reservation_id": resv, "security_groups": [sgn], "account_id": a, "region": r}
    text = "$ sudo ohai ec2\n" + json.dumps(out, indent=2) + "\n"
    return text, [a, i, ami, prof, aipa, kp, sgn, resv], ['"ami_launch_index": "0"', '"instance_type": "m5.large"',
                                                          '"profile": "default-hvm"']


def _v14_facter(g: Gen):
    r, a, i, ami, prof = g.region(), g.account(), g.iid(), g.hexid("ami"), g.name("pms")
    aipa, sg, sn, vpc, mac = "AIPA" + g.alnum(17, _B32), g.hexid("sg"), g.hexid("subnet"), g.hexid("vpc"), _v14_mac(g)
    text = ("$ facter -p ec2_metadata\n{\n"
            f"  ami-id => \"{ami}\",\n  ami-launch-index => \"0\",\n"
            "  block-device-mapping => {\n    ami => \"/dev/xvda\",\n    root => \"/dev/xvda\"\n  },\n"
            "  iam => {\n    info => {\n      Code => \"Success\",\n"
            f"      InstanceProfileArn => \"arn:aws:iam::{a}:instance-profile/{prof}\",\n"
            f"      InstanceProfileId => \"{aipa}\",\n      LastUpdated => \"2024-05-14T09:12:44Z\"\n    }}\n  }},\n"
            f"  instance-id => \"{i}\",\n  instance-type => \"c6i.xlarge\",\n"
            "  network => {\n    interfaces => {\n      macs => {\n"
            f"        \"{mac}\" => {{\n          device-number => \"0\",\n          owner-id => \"{a}\",\n"
            f"          security-group-ids => \"{sg}\",\n          subnet-id => \"{sn}\",\n"
            f"          vpc-id => \"{vpc}\"\n        }}\n      }}\n    }}\n  }},\n"
            f"  placement => {{\n    availability-zone => \"{r}c\",\n    region => \"{r}\"\n  }}\n}}\n")
    return text, [ami, a, prof, aipa, i, sg, sn, vpc], ["block-device-mapping", "c6i.xlarge", "ami-launch-index"]


def _v14_cloud_init(g: Gen):
    r, b, cl, ep = g.region(), g.bucket(), g.name(g.pick(["pms", "ms"])), g.alnum(32, _UPPER_HEX)
    ca = g.alnum(60, _B64)
    text = ("$ sudo tail -n 12 /var/log/cloud-init-output.log\n"
            f"Cloud-init v. 22.2.2 running 'modules:final' at Tue, 14 May 2024 10:02:{g.r.randint(10, 59)} +0000. "
            f"Up 21.84 seconds.\n+ aws s3 cp s3://{b}/bootstrap/install.sh /tmp/install.sh\n"
            f"download: s3://{b}/bootstrap/install.sh to ../../tmp/install.sh\n+ bash /tmp/install.sh\n"
            f"+ /etc/eks/bootstrap.sh {cl} --b64-cluster-ca {ca}== --apiserver-endpoint "
            f"https://{ep}.gr7.{r}.eks.amazonaws.com --container-runtime containerd "
            "--kubelet-extra-args '--node-labels=eks.amazonaws.com/nodegroup-image=ami,workload=batch'\n"
            "Using kubelet version 1.29.3\nUsing containerd as the container runtime\n"
            "Created symlink /etc/systemd/system/multi-user.target.wants/kubelet.service → "
            "/etc/systemd/system/kubelet.service.\n"
            f"Cloud-init v. 22.2.2 finished at Tue, 14 May 2024 10:02:{g.r.randint(10, 59)} +0000. "
            "Datasource DataSourceEc2Local.  Up 41.12 seconds\n")
    return text, [b, cl, ep], ["DataSourceEc2Local", "Cloud-init v. 22.2.2", "Using kubelet version 1.29.3",
                               "/etc/eks/bootstrap.sh"]


def _v14_journal(g: Gen):
    r, a, i, role = g.region(), g.account(), g.iid(), g.name(g.pick(["pms", "Camel"]))
    host = f"ip-{_ip10(g).replace('.', '-')}"
    pid = g.r.randint(900, 4000)
    hdr = f"May 14 10:02:{{s}} {host} amazon-ssm-agent[{pid}]: 2024-05-14 10:02:{{s}}"
    def line(msg):
        s = g.r.randint(10, 59)
        return hdr.format(s=s) + " " + msg
    text = ("$ journalctl -u amazon-ssm-agent --since \"10 min ago\" --no-pager\n"
            + line("INFO [amazon-ssm-agent] amazon-ssm-agent - v3.3.131.0") + "\n"
            + line(f"INFO [amazon-ssm-agent] Region: {r}") + "\n"
            + line("INFO [CredentialRefresher] Credentials ready") + "\n"
            + line("INFO [CredentialRefresher] Next credential rotation will be in 29.99 minutes") + "\n"
            + line("ERROR [HealthCheck] error when calling AWS APIs. error details - AccessDeniedException: User: "
                   f"arn:aws:sts::{a}:assumed-role/{role}/{i} is not authorized to perform: "
                   f"ssm:UpdateInstanceInformation on resource: arn:aws:ec2:{r}:{a}:instance/{i} because no "
                   "identity-based policy allows the ssm:UpdateInstanceInformation action") + "\n"
            + line(f"INFO [ssm-agent-worker] [MessageService] [MGSInteractor] Stopped the instance {i} "
                   "channel, retrying in 300 seconds") + "\n")
    return text, [a, role, i], ["ssm:UpdateInstanceInformation", "[MGSInteractor]", "v3.3.131.0",
                                "Credentials ready"]


def _v14_fstab(g: Gen):
    r, efs, fsap, efs2 = g.region(), g.hexid("fs"), g.hexid("fsap"), g.hexid("fs", 8)
    fsx, mnt = g.hexid("fs"), g.alnum(8)
    root = _uuid(g)
    text = ("$ cat /etc/fstab\n"
            f"UUID={root}     /           xfs    defaults,noatime  1   1\n"
            f"{efs}:/ /mnt/shared efs _netdev,noresvport,tls,iam,accesspoint={fsap} 0 0\n"
            f"{efs2}.efs.{r}.amazonaws.com:/   /mnt/legacy   nfs4   "
            "nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,_netdev 0 0\n"
            f"{fsx}.fsx.{r}.amazonaws.com@tcp:/{mnt}\t/fsx\tlustre\tdefaults,noatime,flock,_netdev,x-systemd.automount 0 0\n"
            "$ df -hT | grep -E 'nfs4|lustre'\n"
            "127.0.0.1:/                  nfs4     8.0E  1.2T  8.0E   1% /mnt/shared\n"
            f"{efs2}.efs.{r}.amazonaws.com:/  nfs4  8.0E  311G  8.0E   1% /mnt/legacy\n"
            f"{_ip10(g)}@tcp:/{mnt}          lustre   1.2T  411G  788G  35% /fsx\n")
    return text, [efs, fsap, efs2, fsx, mnt], [f"UUID={root}", "nfsvers=4.1,rsize=1048576", "x-systemd.automount"]


def _v14_crontab(g: Gen):
    b, key, asg, vol = g.bucket(), _uuid(g), g.name(g.pick(["pms", "msn"])), g.hexid("vol")
    app = g.name("Camel")
    text = ("$ crontab -l\n# m h  dom mon dow   command\nMAILTO=ops@example.com\nPATH=/usr/local/bin:/usr/bin:/bin\n"
            f"15 2 * * * aws s3 sync /var/backups/pg s3://{b}/pg/$(hostname)/ --sse aws:kms --sse-kms-key-id {key} "
            ">> /var/log/s3sync.log 2>&1\n"
            f"*/5 * * * * /opt/bin/push-metrics --namespace Custom/{app} --dimensions AutoScalingGroupName={asg}\n"
            f"0 4 * * 0 aws ec2 create-snapshot --volume-id {vol} --description \"weekly $(date +\\%F)\" "
            "--tag-specifications 'ResourceType=snapshot,Tags=[{Key=Backup,Value=weekly}]'\n")
    return text, [b, key, asg, vol], ["aws:kms", "MAILTO=ops@example.com", "ResourceType=snapshot"]


# CI/CD and platform: CircleCI, Bitbucket Pipelines, Flux, Backstage
def _v14_circleci(g: Gen):
    r, a, role, repo = g.region(), g.account(), g.name("pms"), g.name(g.pick(["ms", "pms"]))
    text = ("version: 2.1\norbs:\n  aws-cli: circleci/aws-cli@4.1.3\n  aws-ecr: circleci/aws-ecr@9.0.4\n\n"
            "workflows:\n  build-and-push:\n    jobs:\n      - aws-ecr/build_and_push_image:\n"
            "          name: push-api\n          context: aws-oidc\n          auth:\n            - aws-cli/setup:\n"
            f"                role_arn: arn:aws:iam::{a}:role/{role}\n                region: {r}\n"
            f"                role_session_name: circleci-${{CIRCLE_WORKFLOW_ID}}\n"
            f"          account_id: \"{a}\"\n          region: {r}\n          repo: {repo}\n"
            "          tag: \"${CIRCLE_SHA1},latest\"\n          create_repo: false\n"
            "          filters:\n            branches:\n              only: main\n")
    return text, [a, role, repo], ["circleci/aws-ecr@9.0.4", "${CIRCLE_SHA1}", "aws-cli/setup"]


def _v14_bitbucket(g: Gen):
    r, a, role, b, dist = g.region(), g.account(), g.name("pms"), g.bucket(), _v14_dist(g)
    text = ("image: node:20\n\npipelines:\n  branches:\n    main:\n      - step:\n          name: Build\n"
            "          caches: [node]\n          script:\n            - npm ci && npm run build\n"
            "          artifacts: [dist/**]\n      - step:\n          name: Deploy to S3\n          deployment: production\n"
            "          oidc: true\n          script:\n            - pipe: atlassian/aws-s3-deploy:1.6.0\n"
            f"              variables:\n                AWS_DEFAULT_REGION: '{r}'\n"
            f"                AWS_OIDC_ROLE_ARN: 'arn:aws:iam::{a}:role/{role}'\n"
            f"                S3_BUCKET: '{b}/site'\n                LOCAL_PATH: 'dist'\n"
            "                DELETE_FLAG: 'true'\n            - pipe: atlassian/aws-cloudfront-invalidate:0.9.0\n"
            f"              variables:\n                AWS_DEFAULT_REGION: 'us-east-1'\n"
            f"                AWS_OIDC_ROLE_ARN: 'arn:aws:iam::{a}:role/{role}'\n"
            f"                DISTRIBUTION_ID: '{dist}'\n")
    return text, [a, role, b, dist], ["atlassian/aws-s3-deploy:1.6.0", "atlassian/aws-cloudfront-invalidate:0.9.0",
                                      "image: node:20"]


def _v14_flux(g: Gen):
    r, a, repo, cl, role = g.region(), g.account(), g.name("ms"), g.name(g.pick(["pms", "ms"])), g.name("pms")
    text = ("---\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n"
            "  name: platform-manifests\n  namespace: flux-system\nspec:\n  interval: 5m\n"
            f"  url: oci://{_ecr(a, r)}/{repo}\n  provider: aws\n  ref:\n    semver: \">=1.4.0\"\n"
            "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n"
            "  name: platform\n  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n"
            "  sourceRef:\n    kind: OCIRepository\n    name: platform-manifests\n  path: ./clusters/prod\n"
            "  postBuild:\n    substitute:\n"
            f"      cluster_name: {cl}\n      aws_account_id: \"{a}\"\n      aws_region: {r}\n"
            f"      karpenter_role_arn: arn:aws:iam::{a}:role/{role}\n"
            "    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n")
    return text, [a, repo, cl, role], ["source.toolkit.fluxcd.io/v1beta2", "provider: aws", "semver: \">=1.4.0\""]


def _v14_backstage(g: Gen):
    r, a, cl, svc, pipe = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("pms"), g.name("pms")
    fn = g.name("pms")
    text = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders-api\n"
            "  description: Public orders API\n  annotations:\n"
            f"    aws.amazon.com/amazon-ecs-service-arn: arn:aws:ecs:{r}:{a}:service/{cl}/{svc}\n"
            f"    aws.amazon.com/aws-codepipeline-arn: arn:aws:codepipeline:{r}:{a}:{pipe}\n"
            f"    aws.amazon.com/lambda-function-name: {fn}\n    aws.amazon.com/lambda-region: {r}\n"
            "    backstage.io/techdocs-ref: dir:.\n    github.com/project-slug: acme/orders-api\n"
            "  tags: [java, aws]\nspec:\n  type: service\n  lifecycle: production\n  owner: team-payments\n"
            "  system: commerce\n")
    return text, [a, cl, svc, pipe, fn], ["backstage.io/v1alpha1", "aws.amazon.com/amazon-ecs-service-arn",
                                          "github.com/project-slug: acme/orders-api", "lifecycle: production"]


# observability config: Datadog dashboard, Vector, Logstash, Alertmanager SNS
def _v14_datadog(g: Gen):
    a, q, fn, db = g.account(), _v14_lname(g), _v14_lname(g), _v14_lname(g)
    dash = {"title": "Checkout pipeline", "description": "owned by #team-payments", "widgets": [
        {"id": g.r.randint(10 ** 15, 10 ** 16), "definition": {"title": "Backlog", "type": "timeseries", "requests": [
            {"q": f"avg:aws.sqs.approximate_number_of_messages_visible{{queuename:{q}}} by {{region}}",
             "display_type": "line"}]}},
        {"id": g.r.randint(10 ** 15, 10 ** 16), "definition": {"title": "Lambda errors", "type": "query_value",
                                                               "requests": [{"q": f"sum:aws.lambda.errors{{functionname:{fn},aws_account:{a}}}.as_count()",
                                                                             "aggregator": "sum"}]}},
        {"id": g.r.randint(10 ** 15, 10 ** 16), "definition": {"title": "DB CPU", "type": "timeseries", "requests": [
            {"q": f"avg:aws.rds.cpuutilization{{dbinstanceidentifier:{db},$account}}"}]}}],
        "template_variables": [{"name": "account", "prefix": "aws_account", "available_values": [], "default": a}],
        "layout_type": "ordered", "notify_list": [], "reflow_type": "auto"}
    text = json.dumps(dash, indent=2) + "\n"
    return text, [a, q, fn, db], ["aws.sqs.approximate_number_of_messages_visible", '"layout_type": "ordered"',
                                  '"prefix": "aws_account"']


def _v14_vector(g: Gen):
    r, a, b, role, lgn = g.region(), g.account(), g.bucket(), g.name("pms"), g.name("ms")
    text = ("# /etc/vector/vector.toml\n[sources.nginx]\ntype = \"file\"\ninclude = [\"/var/log/nginx/access.log\"]\n\n"
            "[transforms.parse_nginx]\ntype = \"remap\"\ninputs = [\"nginx\"]\nsource = '. = parse_nginx_log!(.message, \"combined\")'\n\n"
            "[sinks.archive]\ntype = \"aws_s3\"\ninputs = [\"parse_nginx\"]\n"
            f"bucket = \"{b}\"\nkey_prefix = \"nginx/date=%F/\"\nregion = \"{r}\"\ncompression = \"gzip\"\n"
            f"encoding.codec = \"json\"\nauth.assume_role = \"arn:aws:iam::{a}:role/{role}\"\n\n"
            "[sinks.cw]\ntype = \"aws_cloudwatch_logs\"\ninputs = [\"parse_nginx\"]\n"
            f"group_name = \"/app/{lgn}/nginx\"\nstream_name = \"{{{{ host }}}}\"\nregion = \"{r}\"\n"
            "encoding.codec = \"json\"\n")
    return text, [b, a, role, lgn], ['type = "aws_s3"', "{{ host }}", 'type = "aws_cloudwatch_logs"',
                                     "parse_nginx_log!"]


def _v14_logstash(g: Gen):
    r, a, b, role, q = g.region(), g.account(), g.bucket(), g.name("pms"), g.name()
    dom, h, k, s = g.name(g.pick(["ms", "pms"])), g.alnum(26), g.akid(), g.secret()
    text = ("input {\n  s3 {\n"
            f"    bucket => \"{b}\"\n    prefix => \"AWSLogs/{a}/elasticloadbalancing/{r}/\"\n"
            f"    region => \"{r}\"\n    role_arn => \"arn:aws:iam::{a}:role/{role}\"\n"
            "    sincedb_path => \"/var/lib/logstash/sincedb_alb\"\n    codec => plain\n  }\n"
            f"  sqs {{\n    queue => \"{q}\"\n    region => \"{r}\"\n  }}\n}}\n"
            "filter {\n  grok { match => { \"message\" => \"%{ELB_ACCESS_LOG}\" } }\n}\n"
            "output {\n  opensearch {\n"
            f"    hosts => [\"https://vpc-{dom}-{h}.{r}.es.amazonaws.com:443\"]\n"
            "    auth_type => {\n      type => 'aws_iam'\n"
            f"      aws_access_key_id => '{k}'\n      aws_secret_access_key => '{s}'\n      region => '{r}'\n    }}\n"
            "    index => \"alb-%{+YYYY.MM.dd}\"\n    ecs_compatibility => disabled\n  }\n}\n")
    return text, [b, a, role, q, dom, h, k, s], ["%{+YYYY.MM.dd}", "%{ELB_ACCESS_LOG}", "type => 'aws_iam'"]


def _v14_alertmanager(g: Gen):
    r, a, topic, role, cl = g.region(), g.account(), g.name(g.pick(["pms", "ms"])), g.name("pms"), g.name("pms")
    text = ("route:\n  receiver: ops-sns\n  group_by: [alertname, namespace]\n  group_wait: 30s\n"
            "receivers:\n  - name: ops-sns\n    sns_configs:\n"
            f"      - api_url: https://sns.{r}.amazonaws.com\n"
            f"        topic_arn: arn:aws:sns:{r}:{a}:{topic}\n        sigv4:\n          region: {r}\n"
            f"          role_arn: arn:aws:iam::{a}:role/{role}\n"
            "        subject: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'\n"
            f"        attributes:\n          cluster: {cl}\n          severity: '{{{{ .CommonLabels.severity }}}}'\n")
    return text, [a, topic, role, cl], ["sns_configs", "{{ .CommonLabels.alertname }}", f"https://sns.{r}.amazonaws.com"]


# data platforms: Spark on EMR, MWAA, Glue crawler, awswrangler, DataSync, Kafka Connect, Flyway, EMR configs, DMS
def _v14_spark_driver(g: Gen):
    r, b, logb, jf = g.region(), g.bucket(), g.bucket(), "j-" + g.alnum(13, _UPPER_ALNUM)
    db, tbl = g.name("p_m_s"), g.pick(["orders_daily", "clicks_hourly", "invoices"])
    rid, ext = g.alnum(16, _UPPER_HEX), g.alnum(76, _B64)
    node = f"ip-{_ip10(g).replace('.', '-')}." + ("ec2.internal" if r == "us-east-1" else f"{r}.compute.internal")
    app = f"application_{g.r.randint(1715000000000, 1715999999999)}_00{g.r.randint(10, 99)}"
    text = (f"24/05/14 10:12:03 INFO SparkContext: Running Spark version 3.5.0-amzn-1\n"
            f"24/05/14 10:12:03 INFO SparkContext: Submitted application: daily-rollup\n"
            f"24/05/14 10:12:05 INFO Client: Submitting application {app} to ResourceManager\n"
            f"24/05/14 10:12:09 INFO EmrFSRecorder: log uri s3://{logb}/elasticmapreduce/{jf}/\n"
            f"24/05/14 10:12:31 INFO HiveMetaStoreClient: Using AWS Glue Data Catalog, database {db}\n"
            f"24/05/14 10:13:10 INFO MultipartUploadOutputStream: close closed:false "
            f"s3://{b}/curated/{tbl}/dt=2024-05-13/part-00000-{_uuid(g)}-c000.snappy.parquet\n"
            f"24/05/14 10:13:40 WARN TaskSetManager: Lost task 12.0 in stage 3.0 (TID 212) ({node} executor 4): "
            f"com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; "
            f"Error Code: AccessDenied; Request ID: {rid}; S3 Extended Request ID: {ext}; Proxy: null), "
            f"S3 Extended Request ID: {ext}\n"
            f"24/05/14 10:13:52 ERROR FileFormatWriter: Aborting job {_uuid(g)}.\n"
            f"Exception in thread \"main\" org.apache.spark.SparkException: Job aborted due to stage failure: "
            f"writing to table {db}.{tbl} at s3://{b}/curated/{tbl}\n")
    return text, [b, logb, jf, db], ["3.5.0-amzn-1", app, "TaskSetManager", "Error Code: AccessDenied", rid]


def _v14_mwaa(g: Gen):
    env, job, b = g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "p_m_s"])), g.bucket()
    ts = "[2024-05-14, 10:02:11 UTC]"
    text = (f"*** Reading remote log from Cloudwatch log_group: airflow-{env}-Task "
            f"log_stream: dag_id=nightly_etl/run_id=scheduled__2024-05-14T09_00_00+00_00/task_id=run_glue/attempt=1.log.\n"
            f"{ts} {{glue.py:167}} INFO - Initializing AWS Glue Job: {job}. Wait for completion: True\n"
            f"{ts} {{glue.py:190}} INFO - Script location: s3://{b}/scripts/{job}.py\n"
            f"{ts} {{taskinstance.py:1937}} ERROR - Task failed with exception\nTraceback (most recent call last):\n"
            "  File \"/usr/local/airflow/.local/lib/python3.11/site-packages/airflow/providers/amazon/aws/operators/glue.py\", "
            "line 199, in execute\n    glue_job_run = self.glue_job_hook.initialize_job(self.script_args, self.run_job_kwargs)\n"
            "  File \"/usr/local/airflow/.local/lib/python3.11/site-packages/botocore/client.py\", line 1009, in _make_api_call\n"
            "    raise error_class(parsed_response, operation_name)\n"
            "botocore.errorfactory.EntityNotFoundException: An error occurred (EntityNotFoundException) when calling the "
            f"StartJobRun operation: Job with name: {job} not found\n"
            f"{ts} {{taskinstance.py:1400}} INFO - Marking task as FAILED. dag_id=nightly_etl, task_id=run_glue, "
            "execution_date=20240514T090000, start_date=20240514T100209, end_date=20240514T100211\n"
            f"{ts} {{standard_task_runner.py:104}} ERROR - Failed to execute job {g.r.randint(1000, 9999)} for task run_glue\n")
    return text, [env, job, b], ["EntityNotFoundException", "{taskinstance.py:1937}", "dag_id=nightly_etl",
                                 "airflow/providers/amazon/aws/operators/glue.py"]


def _v14_glue_crawler(g: Gen):
    cr, db, b = g.name("pms"), g.name(g.pick(["p_m_s", "pms"])), g.bucket()
    tbl = g.pick(["clicks", "raw_orders", "sessions"])
    rid = _uuid(g)
    def ln(lvl, msg):
        return f"2024-05-14T10:0{g.r.randint(0, 9)}:{g.r.randint(10, 59)}.{g.r.randint(100, 999)}Z\t[{rid}]\t{lvl} : {msg}"
    text = (f"$ aws logs tail /aws-glue/crawlers --log-stream-names {cr}\n" + "\n".join([
        ln("BENCHMARK", f"Running Start Crawl for Crawler {cr}"),
        ln("BENCHMARK", "Classification complete, writing results to database " + db),
        ln("INFO", 'Crawler configured with SchemaChangePolicy {"UpdateBehavior":"UPDATE_IN_DATABASE",'
                   '"DeleteBehavior":"DEPRECATE_IN_DATABASE"}.'),
        ln("INFO", f"Created table {tbl} in database {db}"),
        ln("INFO", f"Created partitions with values [[2024, 05, 13]] for table {tbl} in database {db}"),
        ln("ERROR", f"Insufficient Lake Formation permission(s) on s3://{b}/raw/{tbl}/ (Database name: {db}, "
                    f"Table Name: {tbl})"),
        ln("BENCHMARK", "Crawler has finished running and is in state READY")]) + "\n")
    return text, [cr, db, b], ["UPDATE_IN_DATABASE", "Crawler has finished running and is in state READY", rid]


def _v14_wrangler(g: Gen):
    r, db, wg, b, b2 = g.region(), g.name("p_m_s"), g.name("ms"), g.bucket(), g.bucket()
    tbl, tbl2 = g.pick(["orders", "payments_raw"]), g.pick(["orders_curated", "daily_totals"])
    text = ("import awswrangler as wr\nimport boto3\n\n"
            f"session = boto3.Session(profile_name=\"analytics\", region_name=\"{r}\")\n\n"
            "df = wr.athena.read_sql_query(\n"
            f"    \"SELECT order_id, total, dt FROM {tbl} WHERE dt = '2024-05-13'\",\n"
            f"    database=\"{db}\",\n    workgroup=\"{wg}\",\n    s3_output=\"s3://{b}/athena-results/\",\n"
            "    ctas_approach=False,\n    boto3_session=session,\n)\n"
            f"wr.s3.to_parquet(df, path=\"s3://{b2}/curated/{tbl2}/\", dataset=True, mode=\"overwrite_partitions\",\n"
            f"                 database=\"{db}\", table=\"{tbl2}\", partition_cols=[\"dt\"], boto3_session=session)\n")
    return text, [db, wg, b, b2], ["overwrite_partitions", "import awswrangler as wr", "ctas_approach=False"]


def _v14_datasync(g: Gen):
    r, a, b, role = g.region(), g.account(), g.bucket(), g.name("pms")
    task, ex, src, dst = g.hexid("task"), g.hexid("exec"), g.hexid("loc"), g.hexid("loc")
    out = {"TaskExecutionArn": f"arn:aws:datasync:{r}:{a}:task/{task}/execution/{ex}", "Status": "ERROR",
           "Options": {"VerifyMode": "ONLY_FILES_TRANSFERRED", "OverwriteMode": "ALWAYS", "PreserveDeletedFiles": "PRESERVE",
                       "TransferMode": "CHANGED", "LogLevel": "TRANSFER"},
           "StartTime": "2024-05-14T01:00:03.118000+00:00", "EstimatedFilesToTransfer": 18422,
           "FilesTransferred": 17110, "BytesTransferred": 48211731042,
           "Result": {"PrepareDuration": 40211, "PrepareStatus": "SUCCESS", "TransferDuration": 1802231,
                      "TransferStatus": "ERROR", "ErrorCode": "S3_ACCESS_DENIED",
                      "ErrorDetail": f"DataSync location access test failed: could not perform s3:PutObject in bucket {b}. "
                                     "Access denied. Ensure bucket access role has s3:PutObject permission."}}
    loc = {"LocationArn": f"arn:aws:datasync:{r}:{a}:location/{dst}", "LocationUri": f"s3://{b}/ingest/",
           "S3StorageClass": "INTELLIGENT_TIERING",
           "S3Config": {"BucketAccessRoleArn": f"arn:aws:iam::{a}:role/{role}"},
           "CreationTime": "2024-02-01T12:20:44.812000+00:00"}
    text = (f"$ aws datasync describe-task-execution --task-execution-arn "
            f"arn:aws:datasync:{r}:{a}:task/{task}/execution/{ex}\n" + json.dumps(out, indent=4) + "\n"
            f"$ aws datasync describe-location-s3 --location-arn arn:aws:datasync:{r}:{a}:location/{dst}\n"
            + json.dumps(loc, indent=4) + f"\n# source is the NFS location {src} (on-prem filer)\n")
    return text, [a, b, role, task, ex, src, dst], ["ONLY_FILES_TRANSFERRED", "S3_ACCESS_DENIED", "INTELLIGENT_TIERING"]


def _v14_kafka_connect(g: Gen):
    r, b, k, s, cl, h = g.region(), g.bucket(), g.akid(), g.secret(), g.name(g.pick(["pms", "ms"])), g.alnum(6)
    brokers = ",".join(f"b-{n}.{cl}.{h}.c{g.r.randint(2, 9)}.kafka.{r}.amazonaws.com:9098" for n in (1, 2))
    text = ("# connect-s3-sink.properties (MSK Connect custom plugin)\nname=orders-s3-sink\n"
            "connector.class=io.confluent.connect.s3.S3SinkConnector\ntasks.max=4\n"
            "topics=orders.v1,payments.v1\n"
            f"s3.region={r}\ns3.bucket.name={b}\ntopics.dir=kafka/prod\nflush.size=1000\nrotate.interval.ms=600000\n"
            "storage.class=io.confluent.connect.s3.storage.S3Storage\n"
            "format.class=io.confluent.connect.s3.format.parquet.ParquetFormat\n"
            "partitioner.class=io.confluent.connect.storage.partitioner.TimeBasedPartitioner\n"
            "path.format='dt'=YYYY-MM-dd\nlocale=en-US\ntimezone=UTC\n"
            f"aws.access.key.id={k}\naws.secret.access.key={s}\n"
            "# worker\n"
            f"bootstrap.servers={brokers}\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\n"
            "sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required;\n")
    return text, [b, k, s, cl, h], ["io.confluent.connect.s3.S3SinkConnector", "AWS_MSK_IAM",
                                    "software.amazon.msk.auth.iam.IAMLoginModule"]


def _v14_flyway(g: Gen):
    r, cl, h, pw, b = g.region(), g.name(g.pick(["pms", "ms"])), g.alnum(12), g.alnum(28, _MIXED_ALNUM), g.bucket()
    text = ("# flyway.conf\n"
            f"flyway.url=jdbc:postgresql://{cl}.cluster-{h}.{r}.rds.amazonaws.com:5432/billing?sslmode=verify-full"
            "&sslrootcert=/etc/ssl/certs/global-bundle.pem\n"
            f"flyway.user=flyway_admin\nflyway.password={pw}\nflyway.schemas=public,billing\n"
            f"flyway.locations=filesystem:sql/migrations,s3:{b}/migrations\nflyway.baselineOnMigrate=true\n"
            "$ flyway -configFiles=flyway.conf migrate\nFlyway OSS Edition 10.13.0 by Redgate\n"
            f"Database: jdbc:postgresql://{cl}.cluster-{h}.{r}.rds.amazonaws.com:5432/billing (PostgreSQL 15.5)\n"
            "Successfully validated 42 migrations (execution time 00:00.184s)\n"
            "Current version of schema \"public\": 41\nMigrating schema \"public\" to version \"42 - add invoice status\"\n"
            "Successfully applied 1 migration to schema \"public\", now at version v42 (execution time 00:00.512s)\n")
    return text, [cl, h, pw, b], ["sslmode=verify-full", "flyway.schemas=public,billing", "Flyway OSS Edition 10.13.0",
                                  "global-bundle.pem"]


def _v14_emr_configs(g: Gen):
    r, a, b, logb, key = g.region(), g.account(), g.bucket(), g.bucket(), _uuid(g)
    kp, sn, prof, sc = g.name("ms"), g.hexid("subnet"), g.name(g.pick(["pms", "Camel"])), g.name("pms")
    conf = [{"Classification": "spark-defaults", "Properties": {"spark.sql.warehouse.dir": f"s3://{b}/warehouse/",
                                                                "spark.dynamicAllocation.enabled": "true"}},
            {"Classification": "hive-site", "Properties": {
                "hive.metastore.client.factory.class": "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory",
                "hive.metastore.glue.catalogid": a}},
            {"Classification": "emrfs-site", "Properties": {"fs.s3.enableServerSideEncryption": "true",
                                                            "fs.s3.serverSideEncryption.kms.keyId": key}}]
    text = (f"$ cat configurations.json\n{json.dumps(conf, indent=2)}\n"
            f"$ aws emr create-cluster --region {r} --name nightly-etl --release-label emr-7.1.0 --applications Name=Spark Name=Hive \\\n"
            f"    --ec2-attributes KeyName={kp},SubnetId={sn},InstanceProfile={prof} \\\n"
            f"    --service-role EMR_DefaultRole_V2 --security-configuration {sc} \\\n"
            f"    --log-uri s3://{logb}/emr/ --configurations file://configurations.json \\\n"
            "    --instance-groups InstanceGroupType=MASTER,InstanceCount=1,InstanceType=m6g.xlarge "
            "InstanceGroupType=CORE,InstanceCount=4,InstanceType=r6g.2xlarge\n")
    return text, [b, a, key, kp, sn, prof, sc, logb], ["emr-7.1.0", "EMR_DefaultRole_V2",
                                                       "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"]


def _v14_dms_log(g: Gen):
    r, a, b = g.region(), g.account(), g.bucket()
    tid, db, h = g.alnum(26, _UPPER_ALNUM), g.name(g.pick(["pms", "ms"])), g.alnum(12)
    host, rep = f"{db}.{h}.{r}.rds.amazonaws.com", g.name("ms")
    def ln(comp, lvl, msg, src):
        return f"2024-05-14T10:{g.r.randint(10, 59)}:{g.r.randint(10, 59)} [{comp:<16}]{lvl}:  {msg}  ({src})"
    text = (f"$ aws logs tail dms-tasks-{rep} --log-stream-names dms-task-{tid}\n" + "\n".join([
        ln("TASK_MANAGER", "I", f"Task '{tid}' running full load and CDC in fresh start mode", "replicationtask.c:1291"),
        ln("SOURCE_CAPTURE", "I", f"Connected to host '{host}' port 5432, database 'orders'", "postgres_endpoint_imp.c:3077"),
        ln("SOURCE_CAPTURE", "W", "Logical replication slot 'dms_slot_01' already exists", "postgres_endpoint_capture.c:1102"),
        ln("TARGET_LOAD", "E", f"Failed to upload file to S3 bucket '{b}' folder 'cdc/orders/public/line_items' "
                               "[1001788]  (Access Denied)", "s3_load.c:371"),
        ln("TASK_MANAGER", "E", f"Task error notification received from subtask 0, thread 0 "
                                f"[arn:aws:dms:{r}:{a}:task:{tid}]", "replicationtask.c:2883")]) + "\n")
    return text, [tid, db, h, b, a, rep], ["replicationtask.c:1291", "[TASK_MANAGER    ]I:", "dms_slot_01"]


# code and API definitions: Rust, Scala, R (paws), OpenAPI with API Gateway extensions, AppSync, IoT Core
def _v14_rust(g: Gen):
    r, a, b, t, q = g.region(), g.account(), g.bucket(), g.name(g.pick(["Camel", "pms"])), g.name()
    text = ("use aws_config::BehaviorVersion;\nuse aws_sdk_dynamodb::types::AttributeValue;\n"
            "use aws_sdk_s3::primitives::ByteStream;\n\n"
            f"const BUCKET: &str = \"{b}\";\nconst TABLE: &str = \"{t}\";\n"
            f"const QUEUE_URL: &str = \"https://sqs.{r}.amazonaws.com/{a}/{q}\";\n\n"
            "#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n"
            "    let config = aws_config::defaults(BehaviorVersion::latest())\n"
            f"        .region(aws_config::Region::new(\"{r}\"))\n        .load()\n        .await;\n"
            "    let s3 = aws_sdk_s3::Client::new(&config);\n"
            "    s3.put_object().bucket(BUCKET).key(\"exports/latest.json\")\n"
            "        .body(ByteStream::from_static(b\"{}\")).send().await?;\n"
            "    let ddb = aws_sdk_dynamodb::Client::new(&config);\n"
            "    let item = ddb.get_item().table_name(TABLE)\n"
            "        .key(\"pk\", AttributeValue::S(\"ORDER#42\".into())).send().await?;\n"
            "    println!(\"{:?}\", item.item);\n"
            "    let sqs = aws_sdk_sqs::Client::new(&config);\n"
            "    sqs.send_message().queue_url(QUEUE_URL).message_body(\"done\").send().await?;\n    Ok(())\n}\n")
    return text, [b, t, a, q], ["BehaviorVersion::latest()", "aws_sdk_dynamodb::Client::new(&config)", "ORDER#42"]


def _v14_scala(g: Gen):
    r, a, b, b2, key = g.region(), g.account(), g.bucket(), g.bucket(), _uuid(g)
    db = g.name("p_m_s")
    text = ("import org.apache.spark.sql.SparkSession\n\nobject DailyRollup {\n"
            f"  private val Warehouse = \"s3://{b}/warehouse/\"\n"
            f"  private val KmsKey = \"arn:aws:kms:{r}:{a}:key/{key}\"\n\n"
            "  def main(args: Array[String]): Unit = {\n"
            "    val spark = SparkSession.builder.appName(\"daily-rollup\")\n"
            "      .config(\"spark.sql.catalog.glue_catalog\", \"org.apache.iceberg.spark.SparkCatalog\")\n"
            "      .config(\"spark.sql.catalog.glue_catalog.warehouse\", Warehouse)\n"
            "      .config(\"spark.hadoop.fs.s3.serverSideEncryption.kms.keyId\", KmsKey)\n"
            "      .getOrCreate()\n"
            f"    val orders = spark.read.parquet(s\"s3://{b2}/raw/orders/dt=${{args(0)}}\")\n"
            "    orders.groupBy(\"customer_id\").sum(\"total\")\n"
            f"      .writeTo(\"glue_catalog.{db}.daily_totals\").overwritePartitions()\n  }}\n}}\n")
    return text, [b, a, key, b2, db], ["org.apache.iceberg.spark.SparkCatalog", "overwritePartitions()",
                                       "${args(0)}"]


def _v14_r_paws(g: Gen):
    r, b, b2, db, wg = g.region(), g.bucket(), g.bucket(), g.name("p_m_s"), g.name("ms")
    qid = _uuid(g)
    text = ("library(paws)\n\n"
            f"s3 <- paws::s3(config = list(region = \"{r}\"))\n"
            f"obj <- s3$get_object(Bucket = \"{b}\", Key = \"reports/2024/05/summary.csv\")\n"
            "df <- read.csv(text = rawToChar(obj$Body))\n\n"
            "athena <- paws::athena()\n"
            "q <- athena$start_query_execution(\n"
            f"  QueryString = \"SELECT region, SUM(total) FROM {db}.orders GROUP BY 1\",\n"
            f"  WorkGroup = \"{wg}\",\n"
            f"  ResultConfiguration = list(OutputLocation = \"s3://{b2}/athena/\")\n)\n"
            f"q$QueryExecutionId\n#> [1] \"{qid}\"\n")
    return text, [b, b2, db, wg], ["paws::athena()", "rawToChar(obj$Body)", qid]


def _v14_openapi(g: Gen):
    r, a, api, fn, role, q = g.region(), g.account(), g.alnum(10), g.name("pms"), g.name("pms"), g.name()
    pool = f"{r}_{g.alnum(9, _MIXED_ALNUM)}"
    text = ("openapi: 3.0.1\ninfo:\n  title: orders-api\n  version: \"2024-05-14T10:02:11Z\"\nservers:\n"
            f"  - url: https://{api}.execute-api.{r}.amazonaws.com/{{basePath}}\n"
            "    variables:\n      basePath:\n        default: prod\npaths:\n  /orders:\n    post:\n"
            "      security:\n        - cognito: []\n      x-amazon-apigateway-integration:\n        type: aws_proxy\n"
            "        httpMethod: POST\n"
            f"        uri: arn:aws:apigateway:{r}:lambda:path/2015-03-31/functions/arn:aws:lambda:{r}:{a}:function:{fn}/invocations\n"
            f"        credentials: arn:aws:iam::{a}:role/{role}\n        passthroughBehavior: when_no_match\n"
            "  /events:\n    post:\n      x-amazon-apigateway-integration:\n        type: aws\n        httpMethod: POST\n"
            f"        uri: arn:aws:apigateway:{r}:sqs:path/{a}/{q}\n"
            f"        credentials: arn:aws:iam::{a}:role/{role}\n"
            "        requestParameters:\n          integration.request.header.Content-Type: \"'application/x-www-form-urlencoded'\"\n"
            "        requestTemplates:\n          application/json: \"Action=SendMessage&MessageBody=$input.body\"\n"
            "components:\n  securitySchemes:\n    cognito:\n      type: apiKey\n      name: Authorization\n"
            "      in: header\n      x-amazon-apigateway-authtype: cognito_user_pools\n"
            "      x-amazon-apigateway-authorizer:\n        type: cognito_user_pools\n        providerARNs:\n"
            f"          - arn:aws:cognito-idp:{r}:{a}:userpool/{pool}\n")
    return text, [api, a, fn, role, q, pool], ["x-amazon-apigateway-integration", "path/2015-03-31/functions/",
                                               "when_no_match", "Action=SendMessage&MessageBody=$input.body"]


def _v14_appsync(g: Gen):
    r, a, api, tbl = g.region(), g.account(), g.alnum(26), g.name(g.pick(["Camel", "pms"]))
    ds, h = g.name("Camel"), g.alnum(8)
    out = {"dataSources": [{"dataSourceArn": f"arn:aws:appsync:{r}:{a}:apis/{api}/datasources/{ds}", "name": ds,
                            "type": "AMAZON_DYNAMODB",
                            "serviceRoleArn": f"arn:aws:iam::{a}:role/service-role/appsync-ds-ddb-{h}-{tbl}",
                            "dynamodbConfig": {"tableName": tbl, "awsRegion": r, "useCallerCredentials": False,
                                               "versioned": False}},
                           {"dataSourceArn": f"arn:aws:appsync:{r}:{a}:apis/{api}/datasources/NONE_DS",
                            "name": "NONE_DS", "type": "NONE"}]}
    text = (f"$ aws appsync list-data-sources --api-id {api}\n" + json.dumps(out, indent=4) + "\n"
            "// resolvers/getOrder.js\nimport { util } from '@aws-appsync/utils';\n\n"
            "export function request(ctx) {\n  return {\n    operation: 'GetItem',\n"
            "    key: util.dynamodb.toMapValues({ pk: `ORDER#${ctx.args.id}` }),\n  };\n}\n\n"
            "export function response(ctx) {\n  if (ctx.error) util.error(ctx.error.message, ctx.error.type);\n"
            "  return ctx.result;\n}\n")
    return text, [a, api, tbl, ds], ["AMAZON_DYNAMODB", "@aws-appsync/utils", "util.dynamodb.toMapValues", '"type": "NONE"']


def _v14_iot(g: Gen):
    r, a, ep, cert, thing = g.region(), g.account(), g.alnum(14), g.alnum(64, _HEX), g.name("msn")
    text = ("$ aws iot describe-endpoint --endpoint-type iot:Data-ATS\n"
            f"{{\n    \"endpointAddress\": \"{ep}-ats.iot.{r}.amazonaws.com\"\n}}\n"
            "$ aws iot create-keys-and-certificate --set-as-active --certificate-pem-outfile device.pem.crt "
            "--private-key-outfile private.pem.key --query '[certificateArn,certificateId]' --output text\n"
            f"arn:aws:iot:{r}:{a}:cert/{cert}\t{cert}\n"
            f"$ aws iot attach-thing-principal --thing-name {thing} --principal arn:aws:iot:{r}:{a}:cert/{cert}\n"
            "$ mosquitto_pub --cafile AmazonRootCA1.pem --cert device.pem.crt --key private.pem.key \\\n"
            f"    -h {ep}-ats.iot.{r}.amazonaws.com -p 8883 -q 1 -i {thing} -t 'dt/{thing}/telemetry' -m '{{\"temp\": 21.4}}' -d\n"
            f"Client {thing} sending CONNECT\nClient {thing} received CONNACK (0)\n"
            f"Client {thing} sending PUBLISH (d0, q1, r0, m1, 'dt/{thing}/telemetry', ... (14 bytes))\n"
            f"Client {thing} received PUBACK (Mid: 1, RC:0)\nClient {thing} sending DISCONNECT\n")
    return text, [ep, a, cert, thing], ["iot:Data-ATS", "AmazonRootCA1.pem", "received CONNACK (0)"]


# Windows on EC2: PowerShell transcript, EC2Launch v2 log and Get-WinEvent
def _v14_ps_transcript(g: Gen):
    r, i, b, key = g.region(), g.iid(), g.bucket(), _uuid(g)
    hostn = "EC2AMAZ-" + g.alnum(7, _UPPER_ALNUM)
    text = ("**********************\nWindows PowerShell transcript start\nStart time: 20240514100203\n"
            f"Username: {hostn}\\Administrator\nRunAs User: {hostn}\\Administrator\nConfiguration Name: \n"
            f"Machine: {hostn} (Microsoft Windows NT 10.0.20348.0)\n"
            "Host Application: C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\n"
            f"Process ID: {g.r.randint(1000, 9000)}\nPSVersion: 5.1.20348.2340\n**********************\n"
            "Transcript started, output file is C:\\Logs\\backup-20240514.txt\n"
            "PS C:\\Users\\Administrator> Get-EC2InstanceMetadata -Category InstanceId, Region\n"
            f"{i}\n{r}\n"
            f"PS C:\\Users\\Administrator> Write-S3Object -BucketName {b} -File D:\\Backup\\erp_full.bak "
            f"-Key sql/erp_full.bak -ServerSideEncryption aws:kms -ServerSideEncryptionKeyManagementServiceKeyId {key}\n"
            f"PS C:\\Users\\Administrator> Get-S3Object -BucketName {b} -KeyPrefix sql/ | Select-Object Key, Size, LastModified\n\n"
            "Key                 Size LastModified\n---                 ---- ------------\n"
            "sql/erp_full.bak 48211731 5/14/2024 10:03:11 AM\n\n"
            "PS C:\\Users\\Administrator> Stop-Transcript\n**********************\nWindows PowerShell transcript end\n"
            "End time: 20240514100412\n**********************\n")
    return text, [i, b, key], ["Windows PowerShell transcript start", "PSVersion: 5.1.20348.2340",
                               "-ServerSideEncryption aws:kms"]


def _v14_ec2launch(g: Gen):
    r, a, i, b, did = g.region(), g.account(), g.iid(), g.bucket(), "d-" + g.alnum(10, _HEX)
    dom = "corp.example.com"
    text = ("PS C:\\> Get-Content C:\\ProgramData\\Amazon\\EC2Launch\\log\\agent.log -Tail 8\n"
            "2024-05-14 10:02:11 Info: EC2Launch Service starting.\n"
            f"2024-05-14 10:02:12 Info: Instance ID: {i}\n2024-05-14 10:02:12 Info: Region: {r}\n"
            "2024-05-14 10:02:13 Info: Stage: preReady completed.\n"
            "2024-05-14 10:02:15 Info: Run task: setAdminAccount\n2024-05-14 10:02:16 Info: Run task: executeScript\n"
            f"2024-05-14 10:02:30 Error: Script execution failed: Read-S3Object : Access Denied (Bucket: {b}, "
            "Key: bootstrap/join.ps1)\n"
            "PS C:\\> Get-WinEvent -LogName 'EC2ConfigService' -MaxEvents 1 | Format-List TimeCreated, Id, Message\n\n"
            "TimeCreated : 5/14/2024 10:02:41 AM\nId          : 2\n"
            f"Message     : Domain join via SSM document awsconfig_Domain_{did}_{dom} on instance {i} failed: "
            f"the directory {did} in account {a} is not reachable from this VPC.\n")
    return text, [i, b, did, a], ["EC2Launch Service starting.", "Run task: setAdminAccount", "awsconfig_Domain_"]


# human text: Portuguese, French, Vietnamese chat, Indonesian chat, an invoice email, a Notion runbook, a
# Confluence runbook, a merge conflict in tfvars
def _v14_pt(g: Gen):
    a, b, fn, tbl = g.account(), g.bucket(), g.name("pms"), g.name(g.pick(["Camel", "pms"]))
    text = (f"Pessoal, o bucket {b} na conta {a} ficou com a política pública depois do deploy de ontem. "
            f"A Lambda {fn} continua gravando lá e lendo da tabela DynamoDB {tbl}. "
            "Alguém consegue revisar o Block Public Access antes das 14h? Obrigado!")
    return text, [a, b, fn, tbl], ["Block Public Access"]


def _v14_fr(g: Gen):
    a, fn, sg, db = g.account(), g.name("pms"), g.hexid("sg"), g.name(g.pick(["pms", "msn"]))
    text = (f"Bonjour l'équipe,\n\nla fonction Lambda « {fn} » du compte {a} (région eu-west-3) n'arrive plus à "
            f"joindre l'instance RDS {db} depuis ce matin. J'ai vérifié le groupe de sécurité {sg} : la règle "
            "entrante sur le port 5432 a disparu. Quelqu'un a-t-il modifié le module Terraform réseau ?\n\n"
            "Merci,\nPauline")
    return text, [fn, a, sg, db], ["eu-west-3", "port 5432"]


def _v14_vi_chat(g: Gen):
    a, i, sg, db = g.account(), g.iid(), g.hexid("sg"), g.name(g.pick(["pms", "ms"]))
    text = (f"[09:14] Minh: anh ơi, instance {i} trong tài khoản {a} bị stop rồi\n"
            f"[09:15] Hùng: em check security group {sg} giùm anh, port 5432 mở cho 0.0.0.0/0 à?\n"
            f"[09:16] Minh: dạ không, chỉ mở cho RDS {db} thôi\n"
            "[09:17] Hùng: ok, để anh mở ticket với AWS Support\n")
    return text, [i, a, sg, db], ["[09:14] Minh:", "0.0.0.0/0"]


def _v14_id_chat(g: Gen):
    a, b, role, q = g.account(), g.bucket(), g.name("pms"), g.name()
    text = (f"14/05/24 10.02 - Budi: bro, bucket {b} di akun {a} kok kena AccessDenied ya\n"
            f"14/05/24 10.03 - Sari: role {role} belum ada policy s3:GetObject, tadi aku cek di IAM\n"
            f"14/05/24 10.05 - Budi: oke, sekalian tambahin akses ke queue {q} juga ya\n"
            "14/05/24 10.06 - Sari: siap 👍\n")
    return text, [b, a, role, q], ["s3:GetObject", "AccessDenied"]


def _v14_invoice_email(g: Gen):
    a, a2, a3 = g.account(), g.account(), g.account()
    n2, n3 = g.name(g.pick(["pms", "ms"])), g.name(g.pick(["pms", "ms"]))
    inv = f"EUINGB24-{g.r.randint(1000000, 9999999)}"
    text = ("From: Amazon Web Services <no-reply-aws@amazon.com>\nSubject: Amazon Web Services Invoice Available [Account: "
            f"{a}] [Invoice ID: {inv}]\n\nGreetings from Amazon Web Services,\n\n"
            f"This e-mail confirms that your latest billing statement is available on the AWS web site. Your account "
            f"will be charged the following:\n\nTotal: $4,812.33\n\n"
            "You can see a complete break down of all charges on the Billing & Cost Management Dashboard.\n\n"
            f"Account number: {a}\nLinked accounts on this invoice:\n  {a2}  {n2}\n  {a3}  {n3}\n\n"
            "Amazon Web Services EMEA SARL, 38 Avenue John F. Kennedy, L-1855, Luxembourg\n")
    return text, [a, a2, a3, n2, n3], ["Amazon Web Services EMEA SARL", "no-reply-aws@amazon.com", inv,
                                       "Billing & Cost Management Dashboard"]


def _v14_notion(g: Gen):
    r, a, sec, fn, cl = g.region(), g.account(), g.name("ms"), g.name("pms"), g.name(g.pick(["pms", "ms"]))
    suf = g.alnum(6, _MIXED_ALNUM)
    text = (f"# Runbook: rotate the orders DB credentials\n\n> 💡 Owner: @platform · Last reviewed 2024-05-02\n\n"
            f"- [ ] Open Secrets Manager secret `prod/{sec}` in account **{a}** ({r})\n"
            f"- [ ] Run `aws secretsmanager rotate-secret --secret-id arn:aws:secretsmanager:{r}:{a}:secret:prod/{sec}-{suf}`\n"
            "- [ ] Watch the rotation in CloudWatch Logs\n\n"
            f"<aside>\n⚠️ The rotation Lambda `{fn}` needs VPC access to the cluster `{cl}`; if it times out, "
            "check the NAT / endpoint first.\n</aside>\n\n"
            "<details>\n<summary>Rollback</summary>\n\n"
            f"Restore `AWSPREVIOUS`: `aws secretsmanager update-secret-version-stage --secret-id prod/{sec} "
            "--version-stage AWSCURRENT --move-to-version-id <previous-id>`\n</details>\n")
    return text, [a, sec, fn, cl], ["AWSPREVIOUS", "AWSCURRENT", "💡 Owner: @platform"]


def _v14_confluence(g: Gen):
    a, role, cl, cl2, zone = g.account(), g.name("pms"), g.name(g.pick(["pms", "ms"])), g.name("pms"), _v14_zone(g)
    text = ("h2. Aurora failover\n{panel:title=Prerequisites|borderStyle=dashed}\n"
            f"* Access to account *{a}* via role {{{{{role}}}}}\n* PagerDuty incident acknowledged\n{{panel}}\n"
            "# Promote the replica cluster:\n"
            f"{{code:language=bash}}aws rds failover-global-cluster --global-cluster-identifier {cl} "
            f"--target-db-cluster-identifier {cl2}{{code}}\n"
            f"# Update the Route 53 record {{{{db.internal.example.com}}}} in hosted zone {{{{{zone}}}}}\n"
            f"{{warning}}Do not touch {{{{{cl2}-old}}}} until the postmortem.{{warning}}\n")
    return text, [a, role, cl, cl2, zone], ["{panel:title=Prerequisites|borderStyle=dashed}", "{code:language=bash}",
                                            "db.internal.example.com"]


def _v14_merge_conflict(g: Gen):
    v1, v2, s1, s2 = g.hexid("vpc"), g.hexid("vpc"), g.hexid("subnet"), g.hexid("subnet")
    a, b = g.account(), g.bucket()
    sha = _sha(g, 7)
    text = ("$ git status\nOn branch feature/move-to-shared-vpc\nYou have unmerged paths.\n"
            "  (fix conflicts and run \"git commit\")\n\nUnmerged paths:\n  (use \"git add <file>...\" to mark resolution)\n"
            "\tboth modified:   envs/prod/terraform.tfvars\n\n$ sed -n 1,14p envs/prod/terraform.tfvars\n"
            f"account_id = \"{a}\"\n<<<<<<< HEAD\nvpc_id     = \"{v1}\"\nsubnet_ids = [\"{s1}\"]\n=======\n"
            f"vpc_id     = \"{v2}\"\nsubnet_ids = [\"{s2}\"]\n>>>>>>> {sha} (move to shared VPC)\n"
            f"state_bucket = \"{b}\"\n")
    return text, [v1, v2, s1, s2, a, b], ["<<<<<<< HEAD", f">>>>>>> {sha} (move to shared VPC)",
                                          "both modified:   envs/prod/terraform.tfvars"]


# tool output: Ansible playbook run, sts get-caller-identity per profile as YAML, FSx describe-file-systems
def _v14_ansible_run(g: Gen):
    i, ami, vpc, nm = g.iid(), g.hexid("ami"), g.hexid("vpc"), g.name("pms")
    sec = g.name("ms")
    inst = json.dumps({"changed": False, "instances": [{"instance_id": i, "image_id": ami, "instance_type": "t3.medium",
                                                        "vpc_id": vpc, "state": {"code": 16, "name": "running"},
                                                        "tags": {"Name": nm, "env": "prod"}}]})
    text = (f"$ ansible-playbook -i localhost, deploy.yml -v\n\nPLAY [Deploy app] {'*' * 60}\n\n"
            f"TASK [Gather EC2 facts] {'*' * 54}\nok: [localhost] => {inst}\n\n"
            f"TASK [Read DB secret] {'*' * 56}\n"
            f"ok: [localhost] => (item=prod/{sec}) => {{\"ansible_loop_var\": \"item\", \"changed\": false, "
            f"\"item\": \"prod/{sec}\"}}\n\n"
            f"TASK [amazon.aws.ec2_instance : Tag instance] {'*' * 32}\n"
            f"changed: [localhost] => {{\"changed\": true, \"changed_ids\": [\"{i}\"], \"instance_ids\": [\"{i}\"]}}\n\n"
            f"PLAY RECAP {'*' * 67}\nlocalhost                  : ok=3    changed=1    unreachable=0    failed=0    "
            "skipped=0    rescued=0    ignored=0   \n")
    return text, [i, ami, vpc, nm, sec], ["PLAY RECAP", "amazon.aws.ec2_instance", "\"instance_type\": \"t3.medium\""]


def _v14_sts_profiles(g: Gen):
    out, mask = [], []
    for p in ("dev", "stage", "prod"):
        a, aroa, who = g.account(), _aroa(g), g.person()
        perm = g.pick(["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"])
        mask += [a, aroa]
        out.append(f"--- {p}\nAccount: '{a}'\n"
                   f"Arn: arn:aws:sts::{a}:assumed-role/AWSReservedSSO_{perm}_{g.alnum(16, _HEX)}/{who}\n"
                   f"UserId: {aroa}:{who}\n")
    text = ("$ for p in dev stage prod; do echo \"--- $p\"; aws sts get-caller-identity --profile $p --output yaml; done\n"
            + "".join(out))
    return text, mask, ["--output yaml; done", "\nUserId: "]


def _v14_fsx(g: Gen):
    r, a, fs, vpc, sn, eni = g.region(), g.account(), g.hexid("fs"), g.hexid("vpc"), g.hexid("subnet"), g.hexid("eni")
    key, did, dns = _uuid(g), "d-" + g.alnum(10, _HEX), "amznfsx" + g.alnum(8)
    out = {"FileSystems": [{"OwnerId": a, "CreationTime": "2023-11-02T14:20:31.118000+00:00", "FileSystemId": fs,
                            "FileSystemType": "WINDOWS", "Lifecycle": "AVAILABLE", "StorageCapacity": 2048,
                            "StorageType": "SSD", "VpcId": vpc, "SubnetIds": [sn], "NetworkInterfaceIds": [eni],
                            "DNSName": f"{dns}.corp.example.com", "KmsKeyId": f"arn:aws:kms:{r}:{a}:key/{key}",
                            "ResourceARN": f"arn:aws:fsx:{r}:{a}:file-system/{fs}",
                            "WindowsConfiguration": {"ActiveDirectoryId": did, "DeploymentType": "SINGLE_AZ_2",
                                                     "PreferredFileServerIp": _ip10(g), "ThroughputCapacity": 32,
                                                     "MaintenanceOperationsInProgress": [], "Aliases": [],
                                                     "AutomaticBackupRetentionDays": 7}}]}
    text = f"$ aws fsx describe-file-systems --file-system-ids {fs}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, fs, vpc, sn, eni, key, did, dns], ['"FileSystemType": "WINDOWS"', "SINGLE_AZ_2",
                                                        ".corp.example.com"]


# negatives
def _v14_neg_pods(g: Gen):
    rows = [("coredns-" + g.alnum(10, "bcdfghjklmnpqrstvwxz2456789") + "-" + g.alnum(5, "bcdfghjklmnpqrstvwxz2456789"), "1/1"),
            ("aws-load-balancer-controller-" + g.alnum(9, "bcdfghjklmnpqrstvwxz2456789") + "-" + g.alnum(5, "bcdfghjklmnpqrstvwxz2456789"), "1/1"),
            ("ebs-csi-controller-" + g.alnum(10, "bcdfghjklmnpqrstvwxz2456789") + "-" + g.alnum(5, "bcdfghjklmnpqrstvwxz2456789"), "6/6"),
            ("aws-node-" + g.alnum(5, "bcdfghjklmnpqrstvwxz2456789"), "2/2")]
    text = ("$ kubectl get pods -n kube-system\nNAME                                            READY   STATUS    RESTARTS   AGE\n"
            + "".join(f"{n:<48}{rd:<8}Running   0          {g.r.randint(2, 40)}d\n" for n, rd in rows)
            + "$ kubectl get deploy aws-load-balancer-controller -n kube-system "
              "-o jsonpath='{.spec.template.spec.containers[0].image}'\n"
              "public.ecr.aws/eks/aws-load-balancer-controller:v2.7.2\n")
    return text, [], [n for n, _ in rows] + ["public.ecr.aws/eks/aws-load-balancer-controller:v2.7.2"]


def _v14_neg_docs(g: Gen):
    text = ("From the AWS CLI docs, the example uses placeholder values:\n\n"
            "```\n$ aws configure\nAWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\n"
            "AWS Secret Access Key [None]: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
            "Default region name [None]: us-west-2\nDefault output format [None]: json\n```\n\n"
            "and then `aws s3 ls s3://amzn-s3-demo-bucket` with account 111122223333 and instance "
            "i-1234567890abcdef0 in the sample output. Replace them with your own values.\n")
    # The placeholders are masked by the README's default policy (documentation_examples: mask), so only the
    # rest must come through (relabelled in session 12).
    return text, [], ["us-west-2", "Default output format [None]: json", "Replace them with your own values"]


def _v14_neg_pricing(g: Gen):
    rows = [("m7g.large", "us-east-1", "use1-az1", "$0.0816"), ("c7i.2xlarge", "eu-central-1", "euc1-az2", "$0.4116"),
            ("r6g.xlarge", "ap-northeast-1", "apne1-az4", "$0.2976"), ("t4g.micro", "sa-east-1", "sae1-az3", "$0.0134")]
    g.r.shuffle(rows)
    text = ("| Instance type | Region | AZ ID | On-Demand (Linux, hourly) |\n|---|---|---|---|\n"
            + "".join(f"| {t} | {r} | {z} | {p} |\n" for t, r, z, p in rows)
            + "\nPrices from the Amazon EC2 pricing page for Amazon Linux 2023; Savings Plans and Reserved "
              "Instances not included. Graviton (AWS Graviton3) types are marked with a g.\n")
    return text, [], [t for t, *_ in rows] + [z for *_, z, _ in rows] + ["Amazon Linux 2023", "AWS Graviton3"]


def _v14_neg_changelog(g: Gen):
    shas = [_sha(g, 7) for _ in range(3)]
    prs = [g.r.randint(30000, 39999) for _ in range(3)]
    text = ("## 5.49.0 (May 9, 2024)\n\nFEATURES:\n\n"
            f"* **New Resource:** `aws_bedrockagent_data_source` ([#{prs[0]}](https://github.com/hashicorp/terraform-provider-aws/issues/{prs[0]}))\n\n"
            "ENHANCEMENTS:\n\n"
            f"* resource/aws_lb_target_group: Add `target_health_state.unhealthy_draining_interval` argument ([#{prs[1]}](https://github.com/hashicorp/terraform-provider-aws/issues/{prs[1]}))\n\n"
            "BUG FIXES:\n\n"
            f"* resource/aws_s3_bucket_lifecycle_configuration: Fix `MalformedXML` errors with empty `filter` ([#{prs[2]}](https://github.com/hashicorp/terraform-provider-aws/issues/{prs[2]}))\n\n"
            "$ git log --oneline -3 v5.48.0..v5.49.0\n"
            f"{shas[0]} Merge pull request #{prs[0]} from hashicorp/f-bedrockagent-data-source\n"
            f"{shas[1]} r/aws_lb_target_group: unhealthy_draining_interval\n{shas[2]} Update CHANGELOG.md for #{prs[2]}\n")
    return text, [], shas + ["aws_bedrockagent_data_source", "v5.48.0..v5.49.0", "MalformedXML"]


def _v14_neg_app_log(g: Gen):
    tid, sid, req, user = g.alnum(32, _HEX), g.alnum(16, _HEX), _uuid(g), _uuid(g)
    pod = f"checkout-{g.alnum(10, 'bcdfghjklmnpqrstvwxz2456789')}-{g.alnum(5, 'bcdfghjklmnpqrstvwxz2456789')}"
    text = (f"{{\"level\":\"info\",\"ts\":\"2024-05-14T10:02:11.482Z\",\"pod\":\"{pod}\",\"msg\":\"order placed\","
            f"\"traceparent\":\"00-{tid}-{sid}-01\",\"request_id\":\"{req}\",\"user_id\":\"{user}\","
            "\"version\":\"2.14.3\",\"latency_ms\":184}\n"
            f"{{\"level\":\"warn\",\"ts\":\"2024-05-14T10:02:12.007Z\",\"pod\":\"{pod}\",\"msg\":\"retrying payment "
            f"provider\",\"attempt\":2,\"request_id\":\"{req}\"}}\n")
    return text, [], [tid, sid, req, user, pod, "2.14.3"]


def _v14_neg_public(g: Gen):
    r = g.region()
    text = ("Endpoints and principals we allow-list in the egress proxy:\n"
            f"- sts.{r}.amazonaws.com, kms-fips.us-east-1.amazonaws.com, s3.dualstack.{r}.amazonaws.com\n"
            "- service principals: lambda.amazonaws.com, states.amazonaws.com, events.amazonaws.com\n"
            "- managed policies: arn:aws:iam::aws:policy/ReadOnlyAccess, "
            "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole\n"
            "- CloudFront hosted zone Z2FDTNDATAQYW2 for alias records (documented, same for everyone)\n")
    return text, [], [f"sts.{r}.amazonaws.com", "kms-fips.us-east-1.amazonaws.com", f"s3.dualstack.{r}.amazonaws.com",
                      "lambda.amazonaws.com", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                      "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole", "Z2FDTNDATAQYW2"]


VARIANTS_14: list[Template] = [
    # orchestration: Step Functions get-execution-history, EventBridge Pipes, EventBridge Scheduler, AppConfig
    # start-deployment and its agent (#0-#3)
    _v14_sfn_history, _v14_pipe, _v14_scheduler, _v14_appconfig,
    # Systems Manager: Run Command, Automation, a Session Manager transcript with IMDSv2, get-parameters-by-path
    # (#4-#7)
    _v14_run_command, _v14_automation, _v14_session, _v14_params_by_path,
    # containers, batch, streaming, file transfer: ECS Exec, Batch describe-jobs, Firehose errors and Kinesis,
    # Transfer Family with an sftp session (#8-#11)
    _v14_ecs_exec, _v14_batch, _v14_firehose, _v14_transfer,
    # security services: a WAF log record, Shield list-attacks, Backup jobs, Service Quotas history (#12-#15)
    _v14_waf_log, _v14_shield, _v14_backup, _v14_quotas,
    # hosts: Chef ohai, Puppet facter, cloud-init output, journalctl for the SSM agent, fstab / df with EFS and FSx
    # for Lustre, crontab (#16-#21)
    _v14_ohai, _v14_facter, _v14_cloud_init, _v14_journal, _v14_fstab, _v14_crontab,
    # CI/CD and platform: CircleCI orbs, Bitbucket Pipelines pipes, Flux OCIRepository / Kustomization, Backstage
    # catalog-info (#22-#25)
    _v14_circleci, _v14_bitbucket, _v14_flux, _v14_backstage,
    # observability config: a Datadog dashboard, Vector, Logstash, Alertmanager sns_configs (#26-#29)
    _v14_datadog, _v14_vector, _v14_logstash, _v14_alertmanager,
    # data platforms: a Spark driver log on EMR, an MWAA task log, a Glue crawler log, awswrangler, DataSync, Kafka
    # Connect S3 sink, Flyway on Aurora, EMR configurations and create-cluster, a DMS task log (#30-#38)
    _v14_spark_driver, _v14_mwaa, _v14_glue_crawler, _v14_wrangler, _v14_datasync, _v14_kafka_connect, _v14_flyway,
    _v14_emr_configs, _v14_dms_log,
    # code and API definitions: Rust, Scala Spark, R paws, OpenAPI with x-amazon-apigateway-*, AppSync data
    # sources and a JS resolver, IoT Core with mosquitto_pub (#39-#44)
    _v14_rust, _v14_scala, _v14_r_paws, _v14_openapi, _v14_appsync, _v14_iot,
    # Windows on EC2: a PowerShell transcript, EC2Launch v2 log and Get-WinEvent (#45-#46)
    _v14_ps_transcript, _v14_ec2launch,
    # human text: Portuguese, French, a Vietnamese chat, an Indonesian WhatsApp chat, the invoice email, a Notion
    # runbook, a Confluence runbook, a merge conflict in tfvars (#47-#54)
    _v14_pt, _v14_fr, _v14_vi_chat, _v14_id_chat, _v14_invoice_email, _v14_notion, _v14_confluence,
    _v14_merge_conflict,
    # tool output: an Ansible playbook run, sts get-caller-identity per profile as YAML, FSx for Windows (#55-#57)
    _v14_ansible_run, _v14_sts_profiles, _v14_fsx,
    # negatives: kube-system pods and a public image, AWS documentation placeholders, a pricing table, a provider
    # CHANGELOG with SHAs, an app log with trace / request IDs, public endpoints and managed policies (#58-#63)
    _v14_neg_pods, _v14_neg_docs, _v14_neg_pricing, _v14_neg_changelog, _v14_neg_app_log, _v14_neg_public,
]


# --- variants-15: a fifteenth held-out list (session 13), written by a helper that never read the engine, its packs or its vocabulary generator
# Sixty-four templates from the real formats of less-pasted AWS services (App Runner, Lightsail, MemoryDB, DocumentDB,
# Neptune, MSK, Amazon MQ, OpenSearch Serverless, QuickSight, Glue DataBrew, EMR Serverless, SageMaker endpoints and
# notebooks, Bedrock agents and knowledge bases, IoT Core, Cognito, Global Accelerator, Route 53 Resolver, Network
# Firewall, CloudHSM, Control Tower, IAM Identity Center, Direct Connect, Directory Service, WorkSpaces), of tools
# (Ansible aws_ec2 inventory, Pulumi, CDK diff, Serverless Framework, SAM, Salt Cloud, Packer, Vault, Consul / Nomad,
# Spinnaker, Argo CD, Helm values, Kustomize, Crossplane, Test Kitchen), of logs (NLB TLS, CloudFront, S3 server
# access, RDS PostgreSQL, Lambda REPORT, X-Ray traces, an OpenTelemetry debug exporter, syslog, journald), of code
# (boto3, TypeScript SDK v3, Go SDK v2, Java SDK v2 / KCL, .NET, Ruby on Rails, Laravel .env, Kotlin SDK, a deploy
# script, AWS Tools for PowerShell, Athena / Redshift SQL) and of human text in English, Italian, Japanese, Spanish,
# German, Chinese, Portuguese and Korean; every value made up here. Measured once, as written (seed 13, 5 per
# template, 320 cases, 2440 values): 82.5 % recall in text and in JSON, 41.9 % pass, 95.3 % kept. Never tuned to.
_V15_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_V15_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_V15_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_V15_CACHE_CODE = {"us-east-1": "use1", "us-east-2": "use2", "us-west-2": "usw2", "eu-west-1": "euw1",
                   "eu-central-1": "euc1", "ap-southeast-2": "apse2", "ap-northeast-1": "apne1", "sa-east-1": "sae1",
                   "ca-central-1": "cac1", "eu-north-1": "eun1"}


def _v15_uuid(g: Gen) -> str:
    return "-".join(g.alnum(n, _HEX) for n in (8, 4, 4, 4, 12))


def _v15_hex(g: Gen, n: int) -> str:
    return g.alnum(n, _HEX)


def _v15_lname(g: Gen) -> str:
    return g.name(g.pick(["pms", "ms", "msn", "pmsn"]))


def _v15_ip10(g: Gen) -> str:
    return f"10.{g.r.randint(0, 254)}.{g.r.randint(0, 254)}.{g.r.randint(10, 250)}"


def _v15_pub(g: Gen) -> str:
    return f"{g.pick(['3', '13', '18', '34', '35', '44', '52', '54'])}.{g.r.randint(0, 254)}.{g.r.randint(0, 254)}.{g.r.randint(10, 250)}"


def _v15_ts(g: Gen) -> str:
    return f"2024-05-{g.r.randint(10, 28)}T{g.r.randint(10, 23)}:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}"


def _v15_dom(g: Gen) -> str:
    return f"{g.pick(_PREFIX)}{g.pick(['corp', 'labs', 'group', 'tech', 'cloud'])}.{g.pick(['com', 'io', 'net', 'de'])}"


def _v15_ipname(ip: str) -> str:
    return "ip-" + ip.replace(".", "-")


def _v15_pdns(ip: str, r: str) -> str:
    return f"{_v15_ipname(ip)}.ec2.internal" if r == "us-east-1" else f"{_v15_ipname(ip)}.{r}.compute.internal"


def _v15_role(g: Gen) -> str:
    return g.pick([f"{g.name('pms')}-role", f"{g.name('ms')}-task-role", f"{g.name('Camel')}ExecRole",
                   f"{g.name('p_m_s')}_access"])


def _v15_pw(g: Gen, n: int = 20) -> str:
    return g.alnum(n, "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")


def _v15_asia(g: Gen) -> str:
    return "ASIA" + g.alnum(16, _V15_B32)


def _v15_token(g: Gen) -> str:
    return "IQoJb3JpZ2luX2VjE" + g.alnum(280, _B64)


def _v15_cells(rows: list[list[str]], title: str) -> str:
    """An aws --output table block for a list of lists."""
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = "+" + "+".join("-" * (n + 4) for n in w) + "+"
    width = len(line)
    out = ["-" * width, "|" + title.center(width - 2) + "|", line]
    for r in rows:
        out.append("|" + "|".join("  " + c.ljust(n + 2) for c, n in zip(r, w, strict=True)) + "|")
    out.append(line)
    return "\n".join(out)


# services: App Runner, Lightsail, MemoryDB, DocumentDB, Neptune, MSK, Amazon MQ, OpenSearch Serverless
def _v15_apprunner(g: Gen):
    r, a, svc, repo = g.region(), g.account(), _v15_lname(g), _v15_lname(g)
    sid, cid, sub = _v15_hex(g, 32), _v15_hex(g, 32), g.alnum(10)
    role, vpcc, db, dbid = _v15_role(g), _v15_lname(g), _v15_lname(g), g.alnum(12)
    tag = f"v{g.r.randint(1, 9)}.{g.r.randint(0, 30)}.{g.r.randint(0, 9)}"
    body = {"Service": {
        "ServiceName": svc, "ServiceId": sid, "ServiceArn": f"arn:aws:apprunner:{r}:{a}:service/{svc}/{sid}",
        "ServiceUrl": f"{sub}.{r}.awsapprunner.com", "Status": "OPERATION_IN_PROGRESS",
        "SourceConfiguration": {
            "ImageRepository": {"ImageIdentifier": f"{a}.dkr.ecr.{r}.amazonaws.com/{repo}:{tag}",
                                "ImageConfiguration": {"Port": "8080", "RuntimeEnvironmentVariables": {
                                    "DB_HOST": f"{db}.{dbid}.{r}.rds.amazonaws.com", "LOG_LEVEL": "info"}},
                                "ImageRepositoryType": "ECR"},
            "AutoDeploymentsEnabled": True},
        "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048", "InstanceRoleArn": f"arn:aws:iam::{a}:role/{role}"},
        "NetworkConfiguration": {"EgressConfiguration": {
            "EgressType": "VPC", "VpcConnectorArn": f"arn:aws:apprunner:{r}:{a}:vpcconnector/{vpcc}/1/{cid}"}}}}
    text = (f"$ aws apprunner describe-service --service-arn arn:aws:apprunner:{r}:{a}:service/{svc}/{sid}\n"
            + json.dumps(body, indent=4) + "\n")
    return text, [a, svc, sid, sub, repo, db, dbid, role, vpcc, cid], [
        '"Status": "OPERATION_IN_PROGRESS"', '"ImageRepositoryType": "ECR"', '"Cpu": "1024"']


def _v15_lightsail(g: Gen):
    r, a = g.region(), g.account()
    az = r + "a"
    i1, i2, sip = _v15_lname(g), _v15_lname(g), _v15_lname(g) + "-ip"
    p1, p2 = _v15_pub(g), _v15_pub(g)
    q1 = f"172.26.{g.r.randint(0, 15)}.{g.r.randint(10, 250)}"
    q2 = f"172.26.{g.r.randint(16, 31)}.{g.r.randint(10, 250)}"
    u = _v15_uuid(g)
    rows = [[i1, "running", "wordpress", "medium_3_0", az, p1, q1],
            [i2, "stopped", "ubuntu_22_04", "small_3_0", az, p2, q2]]
    text = ("$ aws lightsail get-instances --query \"instances[].[name,state.name,blueprintId,bundleId,"
            "location.availabilityZone,publicIpAddress,privateIpAddress]\" --output table\n"
            + _v15_cells(rows, "GetInstances") + "\n"
            f"$ aws lightsail get-static-ip --static-ip-name {sip} --query 'staticIp.[arn,ipAddress,attachedTo,isAttached]' --output text\n"
            f"arn:aws:lightsail:{r}:{a}:StaticIp/{u}\t{p1}\t{i1}\tTrue\n"
            f"$ ssh -i ~/.ssh/LightsailDefaultKey-{r}.pem bitnami@{p1}\n"
            "bitnami@ip-" + q1.replace(".", "-") + ":~$ sudo /opt/bitnami/ctlscript.sh status\n"
            "apache already running\nmariadb already running\nphp-fpm already running\n")
    return text, [a, i1, i2, sip, p1, p2, q1, q2, u, q1.replace(".", "-")], [
        "medium_3_0", "ubuntu_22_04", az, "wordpress", "/opt/bitnami/ctlscript.sh"]


def _v15_memorydb(g: Gen):
    r, a, name = g.region(), g.account(), _v15_lname(g)
    cid, acl, sng, topic = g.alnum(6), _v15_lname(g) + "-acl", _v15_lname(g), _v15_lname(g)
    sg, user, kid = g.hexid("sg"), g.pick(["svc_", "app_", "ro_"]) + g.pick(_MIDDLE), _v15_uuid(g)
    host = f"clustercfg.{name}.{cid}.memorydb.{r}.amazonaws.com"
    c = {"Name": name, "Status": "available", "NumberOfShards": 2,
         "ClusterEndpoint": {"Address": host, "Port": 6379}, "NodeType": "db.r7g.large", "Engine": "redis",
         "EngineVersion": "7.1", "ParameterGroupName": "default.memorydb-redis7",
         "ParameterGroupStatus": "in-sync", "SecurityGroups": [{"SecurityGroupId": sg, "Status": "active"}],
         "SubnetGroupName": sng, "TLSEnabled": True, "KmsKeyId": f"arn:aws:kms:{r}:{a}:key/{kid}",
         "ARN": f"arn:aws:memorydb:{r}:{a}:cluster/{name}", "SnsTopicArn": f"arn:aws:sns:{r}:{a}:{topic}",
         "SnsTopicStatus": "ACTIVE", "SnapshotRetentionLimit": 7, "MaintenanceWindow": "wed:03:00-wed:04:00",
         "ACLName": acl}
    text = (f"$ aws memorydb describe-clusters --cluster-name {name} --region {r}\n"
            + json.dumps({"Clusters": [c]}, indent=2) + "\n"
            f"$ redis-cli -c --tls -h {host} -p 6379 --user {user} --askpass\nPlease input password: ****\n"
            f"{host}:6379> CLUSTER INFO\ncluster_state:ok\ncluster_slots_assigned:16384\n")
    return text, [a, name, cid, acl, sng, topic, sg, user, kid], [
        '"ParameterGroupName": "default.memorydb-redis7"', "db.r7g.large", "wed:03:00-wed:04:00",
        "cluster_slots_assigned:16384"]


def _v15_docdb(g: Gen):
    r, cl, cid = g.region(), _v15_lname(g), g.alnum(12)
    user, pw, db = g.pick(["docdbadmin", "app_rw", "svc_reader"]) + str(g.r.randint(1, 9)), _v15_pw(g, 24), g.pick(_MIDDLE) + "db"
    coll = g.pick(["sessions", "carts", "profiles"])
    w = f"{cl}.cluster-{cid}.{r}.docdb.amazonaws.com"
    ro = f"{cl}.cluster-ro-{cid}.{r}.docdb.amazonaws.com"
    text = (f"$ aws docdb describe-db-clusters --db-cluster-identifier {cl} "
            "--query 'DBClusters[0].[Endpoint,ReaderEndpoint,Status,EngineVersion]' --output text\n"
            f"{w}\t{ro}\tavailable\t5.0.0\n"
            "$ wget -q https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem\n"
            f"$ mongosh \"mongodb://{user}:{pw}@{w}:27017/{db}?tls=true&tlsCAFile=global-bundle.pem"
            "&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false\"\n"
            f"Current Mongosh Log ID:\t{_v15_hex(g, 24)}\n"
            f"Connecting to:\t\tmongodb://<credentials>@{w}:27017/{db}?tls=true&tlsCAFile=global-bundle.pem"
            "&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false&appName=mongosh+2.2.5\n"
            "Using MongoDB:\t\t5.0.0\nUsing Mongosh:\t\t2.2.5\n\n"
            f"rs0 [direct: primary] {db}> db.{coll}.countDocuments()\n{g.r.randint(10000, 999999)}\n")
    return text, [cl, cid, user, pw, db], ["retryWrites=false", "global-bundle.pem", "Using Mongosh:\t\t2.2.5"]


def _v15_neptune(g: Gen):
    r, a, cl, cid = g.region(), g.account(), _v15_lname(g), g.alnum(12)
    b, role = g.bucket(), _v15_role(g)
    lid = _v15_uuid(g)
    text = ("curl -X POST \\\n    -H 'Content-Type: application/json' \\\n"
            f"    https://{cl}.cluster-{cid}.{r}.neptune.amazonaws.com:8182/loader -d '\n    {{\n"
            f"      \"source\" : \"s3://{b}/graph/2024-05-{g.r.randint(10, 28)}/\",\n"
            "      \"format\" : \"csv\",\n"
            f"      \"iamRoleArn\" : \"arn:aws:iam::{a}:role/{role}\",\n"
            f"      \"region\" : \"{r}\",\n"
            "      \"failOnError\" : \"FALSE\",\n      \"parallelism\" : \"MEDIUM\",\n"
            "      \"updateSingleCardinalityProperties\" : \"FALSE\",\n      \"queueRequest\" : \"TRUE\"\n    }'\n"
            "{\n    \"status\" : \"200 OK\",\n    \"payload\" : {\n"
            f"        \"loadId\" : \"{lid}\"\n    }}\n}}\n\n"
            "# then, from the notebook\n"
            "from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection\n"
            "from gremlin_python.process.anonymous_traversal import traversal\n"
            f"conn = DriverRemoteConnection('wss://{cl}.cluster-ro-{cid}.{r}.neptune.amazonaws.com:8182/gremlin', 'g')\n"
            "g = traversal().withRemote(conn)\n"
            "print(g.V().hasLabel('account').count().next())\n")
    return text, [cl, cid, b, a, role], ['"format" : "csv"', '"parallelism" : "MEDIUM"', '"status" : "200 OK"']


def _v15_msk(g: Gen):
    r, a, cl, cid = g.region(), g.account(), _v15_lname(g), g.alnum(6)
    cu, n, role = _v15_uuid(g), g.r.randint(1, 25), _v15_role(g)
    c = g.r.randint(1, 9)
    brokers = [f"b-{k}.{cl}.{cid}.c{c}.kafka.{r}.amazonaws.com" for k in (1, 2, 3)]
    topic = f"{g.pick(_MIDDLE)}.{g.pick(['created', 'updated', 'v1'])}"
    text = (f"$ aws kafka get-bootstrap-brokers --cluster-arn arn:aws:kafka:{r}:{a}:cluster/{cl}/{cu}-{n}\n"
            "{\n"
            f"    \"BootstrapBrokerStringSaslIam\": \"{','.join(h + ':9098' for h in brokers)}\",\n"
            f"    \"BootstrapBrokerStringTls\": \"{','.join(h + ':9094' for h in brokers)}\"\n"
            "}\n$ cat client.properties\nsecurity.protocol=SASL_SSL\nsasl.mechanism=AWS_MSK_IAM\n"
            f"sasl.jaas.config=software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::{a}:role/{role}\";\n"
            "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler\n"
            f"$ bin/kafka-topics.sh --bootstrap-server {brokers[0]}:9098 --command-config client.properties --describe --topic {topic}\n"
            f"Topic: {topic}\tTopicId: {g.alnum(22, _B64[:62])}\tPartitionCount: 6\tReplicationFactor: 3\tConfigs: min.insync.replicas=2\n"
            f"\tTopic: {topic}\tPartition: 0\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3,1\n")
    return text, [a, cl, cid, cu, role], ["security.protocol=SASL_SSL", "sasl.mechanism=AWS_MSK_IAM",
                                           "software.amazon.msk.auth.iam.IAMLoginModule"]


def _v15_amazonmq(g: Gen):
    r, a, name = g.region(), g.account(), _v15_lname(g)
    bid = "b-" + _v15_uuid(g)
    ip1, ip2, sg = _v15_ip10(g), _v15_ip10(g), g.hexid("sg")
    u1, u2 = g.pick(_MIDDLE) + "_producer", g.pick(_MIDDLE) + "_consumer"

    def inst(k, ip):
        h = f"{bid}-{k}.mq.{r}.amazonaws.com"
        return {"ConsoleURL": f"https://{h}:8162",
                "Endpoints": [f"ssl://{h}:61617", f"amqp+ssl://{h}:5671"], "IpAddress": ip}
    body = {"BrokerArn": f"arn:aws:mq:{r}:{a}:broker:{name}:{bid}", "BrokerId": bid,
            "BrokerInstances": [inst(1, ip1), inst(2, ip2)], "BrokerState": "RUNNING",
            "DeploymentMode": "ACTIVE_STANDBY_MULTI_AZ", "EngineType": "ActiveMQ",
            "HostInstanceType": "mq.m5.large", "SecurityGroups": [sg],
            "Users": [{"Username": u1}, {"Username": u2}]}
    text = f"$ aws mq describe-broker --broker-id {bid}\n" + json.dumps(body, indent=2) + "\n"
    return text, [a, name, bid, ip1, ip2, sg, u1, u2], [
        '"DeploymentMode": "ACTIVE_STANDBY_MULTI_AZ"', "mq.m5.large", '"EngineType": "ActiveMQ"']


def _v15_aoss(g: Gen):
    r, a, col = g.region(), g.account(), _v15_lname(g)
    kid, role, cid = _v15_uuid(g), _v15_role(g), g.alnum(20, "abcdefghijklmnopqrstuvwxyz0123456789")
    sso, person = _v15_hex(g, 16), g.person()
    text = (f"$ aws opensearchserverless create-security-policy --name {col}-enc --type encryption --policy "
            f"'{{\"Rules\":[{{\"ResourceType\":\"collection\",\"Resource\":[\"collection/{col}\"]}}],"
            f"\"AWSOwnedKey\":false,\"KmsARN\":\"arn:aws:kms:{r}:{a}:key/{kid}\"}}'\n"
            f"$ aws opensearchserverless create-access-policy --name {col}-data --type data --policy file://data-access.json\n"
            "$ cat data-access.json\n[\n  {\n    \"Rules\": [\n"
            f"      {{\"ResourceType\": \"index\", \"Resource\": [\"index/{col}/*\"], "
            "\"Permission\": [\"aoss:ReadDocument\", \"aoss:WriteDocument\", \"aoss:CreateIndex\"]},\n"
            f"      {{\"ResourceType\": \"collection\", \"Resource\": [\"collection/{col}\"], "
            "\"Permission\": [\"aoss:DescribeCollectionItems\"]}\n    ],\n"
            f"    \"Principal\": [\"arn:aws:iam::{a}:role/{role}\", "
            f"\"arn:aws:sts::{a}:assumed-role/AWSReservedSSO_DataScientist_{sso}/{person}\"]\n  }}\n]\n"
            f"$ aws opensearchserverless batch-get-collection --names {col} --query 'collectionDetails[0]'\n"
            + json.dumps({"id": cid, "name": col, "status": "ACTIVE", "type": "VECTORSEARCH",
                          "arn": f"arn:aws:aoss:{r}:{a}:collection/{cid}", "kmsKeyArn": f"arn:aws:kms:{r}:{a}:key/{kid}",
                          "collectionEndpoint": f"https://{cid}.{r}.aoss.amazonaws.com",
                          "dashboardEndpoint": f"https://{cid}.{r}.aoss.amazonaws.com/_dashboards"}, indent=4) + "\n")
    return text, [a, col, kid, role, cid, sso, person], ["aoss:ReadDocument", '"type": "VECTORSEARCH"',
                                                         '"ResourceType": "collection"']


# services: QuickSight, DataBrew, EMR Serverless, SageMaker, Bedrock, IoT Core, Cognito
def _v15_quicksight(g: Gen):
    r, a, dsid, cl, cid = g.region(), g.account(), _v15_uuid(g), _v15_lname(g), g.alnum(12)
    db, vpcc, req = g.pick(_MIDDLE) + "_dw", _v15_lname(g), _v15_uuid(g)
    qrole, dom = g.pick(_PREFIX).capitalize() + "QuickSightReaders", _v15_dom(g)
    p1, p2 = g.r.sample(_PEOPLE, 2)
    e1, e2 = f"{p1}@{dom}", f"{p2}@{dom}"
    body = {"Status": 200, "DataSource": {
        "Arn": f"arn:aws:quicksight:{r}:{a}:datasource/{dsid}", "DataSourceId": dsid,
        "Name": f"{db} (reader)", "Type": "AURORA_POSTGRESQL", "Status": "CREATION_SUCCESSFUL",
        "DataSourceParameters": {"AuroraPostgreSqlParameters": {
            "Host": f"{cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com", "Port": 5432, "Database": db}},
        "VpcConnectionProperties": {"VpcConnectionArn": f"arn:aws:quicksight:{r}:{a}:vpcConnection/{vpcc}"},
        "SslProperties": {"DisableSsl": False}}, "RequestId": req}
    text = (f"$ aws quicksight describe-data-source --aws-account-id {a} --data-source-id {dsid}\n"
            + json.dumps(body, indent=4) + "\n"
            f"$ aws quicksight list-users --aws-account-id {a} --namespace default "
            "--query 'UserList[].[UserName,Role,Email]' --output text\n"
            f"{qrole}/{p1}\tADMIN\t{e1}\n{qrole}/{p2}\tREADER\t{e2}\n")
    return text, [a, dsid, cl, cid, db, vpcc, qrole, e1, e2], [
        '"Type": "AURORA_POSTGRESQL"', "CREATION_SUCCESSFUL", req, "READER"]


def _v15_databrew(g: Gen):
    r, a, job, ds = g.region(), g.account(), _v15_lname(g) + "-job", _v15_lname(g)
    b, recipe, role, person = g.bucket(), _v15_lname(g) + "-recipe", _v15_role(g), g.person()
    rid = "db_" + _v15_hex(g, 64)
    t = _v15_ts(g)
    body = {"Attempt": 0, "CompletedOn": f"{t}.512000+00:00", "DatasetName": ds, "ExecutionTime": g.r.randint(60, 900),
            "JobName": job, "RunId": rid, "State": "SUCCEEDED", "LogSubscription": "ENABLE",
            "LogGroupName": f"/aws-glue-databrew/jobs/{job}",
            "Outputs": [{"CompressionFormat": "GZIP", "Format": "CSV", "Location": {"Bucket": b, "Key": f"cleaned/{ds}/"},
                         "Overwrite": True}],
            "RecipeReference": {"Name": recipe, "RecipeVersion": "3.0"},
            "StartedBy": f"arn:aws:sts::{a}:assumed-role/{role}/{person}", "StartedOn": f"{t}.004000+00:00",
            "JobSample": {"Mode": "FULL_DATASET"}}
    text = (f"$ aws databrew describe-job-run --name {job} --run-id {rid} --region {r}\n"
            + json.dumps(body, indent=4) + "\n")
    return text, [a, job, ds, b, recipe, role, person], ['"State": "SUCCEEDED"', '"Format": "CSV"',
                                                         '"Mode": "FULL_DATASET"']


def _v15_emr_serverless(g: Gen):
    r, a, app = g.region(), g.account(), "00f" + g.alnum(13)
    run, role, b, logb = "00f" + g.alnum(17), _v15_role(g), g.bucket(), g.bucket()
    job, gdb, tbl = _v15_lname(g), g.name("p_m_s"), g.name("p_m_s")
    script = g.pick(["daily_rollup", "sessionize", "dedupe_orders"])
    text = ("$ aws emr-serverless start-job-run \\\n"
            f"    --application-id {app} \\\n"
            f"    --execution-role-arn arn:aws:iam::{a}:role/{role} \\\n"
            f"    --name {job} \\\n"
            f"    --job-driver '{{\"sparkSubmit\": {{\"entryPoint\": \"s3://{b}/jobs/{script}.py\", "
            "\"entryPointArguments\": [\"--date\", \"2024-05-01\"], \"sparkSubmitParameters\": \"--conf spark.executor.cores=4 "
            "--conf spark.executor.memory=16g --conf spark.hadoop.hive.metastore.client.factory.class="
            "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory\"}}' \\\n"
            f"    --configuration-overrides '{{\"monitoringConfiguration\": {{\"s3MonitoringConfiguration\": "
            f"{{\"logUri\": \"s3://{logb}/emr-serverless/\"}}}}}}'\n"
            "{\n"
            f"    \"applicationId\": \"{app}\",\n    \"jobRunId\": \"{run}\",\n"
            f"    \"arn\": \"arn:aws:emr-serverless:{r}:{a}:/applications/{app}/jobruns/{run}\"\n}}\n"
            f"$ aws emr-serverless get-job-run --application-id {app} --job-run-id {run} "
            "--query 'jobRun.[state,stateDetails,releaseLabel]'\n[\n    \"FAILED\",\n"
            "    \"Job failed, please check complete logs in configured logging destination. ExitCode: 1. Last few "
            "exceptions: pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or "
            f"view `{gdb}`.`{tbl}` cannot be found.\",\n    \"emr-7.1.0\"\n]\n")
    return text, [app, a, role, b, logb, job, gdb, tbl], [
        "emr-7.1.0", "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory", "TABLE_OR_VIEW_NOT_FOUND"]


def _v15_sagemaker_endpoint(g: Gen):
    r, a, ep = g.region(), g.account(), _v15_lname(g) + "-llm"
    cfg, model = f"{ep}-config-2024-05-{g.r.randint(10, 28)}", "hf-" + _v15_lname(g)
    text = ("import boto3, json\n\n"
            f"smr = boto3.client(\"sagemaker-runtime\", region_name=\"{r}\")\n"
            f"resp = smr.invoke_endpoint(\n    EndpointName=\"{ep}\",\n    ContentType=\"application/json\",\n"
            "    Body=json.dumps({\"inputs\": prompt, \"parameters\": {\"max_new_tokens\": 256}}),\n)\n\n"
            "Traceback (most recent call last):\n  File \"/home/ec2-user/SageMaker/smoke.py\", line 6, in <module>\n"
            "botocore.errorfactory.ModelError: An error occurred (ModelError) when calling the InvokeEndpoint operation: "
            "Received client error (424) from primary with message \"{\"code\": 424, \"type\": \"InternalServerException\", "
            "\"message\": \"CUDA out of memory\"}\". See "
            f"https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logEventViewer:group=/aws/sagemaker/Endpoints/{ep} "
            f"in account {a} for more information.\n\n"
            f"$ aws sagemaker describe-endpoint --endpoint-name {ep} "
            "--query '{cfg:EndpointConfigName,status:EndpointStatus}'\n"
            f"{{\n    \"cfg\": \"{cfg}\",\n    \"status\": \"InService\"\n}}\n"
            f"$ aws sagemaker describe-endpoint-config --endpoint-config-name {cfg} --query 'ProductionVariants[0]'\n"
            + json.dumps({"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 2,
                          "InstanceType": "ml.g5.2xlarge", "InitialVariantWeight": 1.0}, indent=4) + "\n")
    return text, [ep, a, cfg, model], ["ml.g5.2xlarge", '"status": "InService"', '"VariantName": "AllTraffic"',
                                       "InvokeEndpoint"]


def _v15_sagemaker_notebook(g: Gen):
    r, a, nb = g.region(), g.account(), _v15_lname(g)
    sub, sg, eni, kid = g.hexid("subnet"), g.hexid("sg"), g.hexid("eni"), _v15_uuid(g)
    lcc, repo = _v15_lname(g) + "-lcc", _v15_lname(g)
    body = {"NotebookInstanceArn": f"arn:aws:sagemaker:{r}:{a}:notebook-instance/{nb}", "NotebookInstanceName": nb,
            "NotebookInstanceStatus": "InService", "Url": f"{nb}.notebook.{r}.sagemaker.aws",
            "InstanceType": "ml.t3.xlarge", "SubnetId": sub, "SecurityGroups": [sg],
            "RoleArn": f"arn:aws:iam::{a}:role/service-role/AmazonSageMaker-ExecutionRole-20240312T101112",
            "KmsKeyId": kid, "NetworkInterfaceId": eni, "NotebookInstanceLifecycleConfigName": lcc,
            "DirectInternetAccess": "Disabled", "VolumeSizeInGB": 50,
            "DefaultCodeRepository": f"https://git-codecommit.{r}.amazonaws.com/v1/repos/{repo}",
            "RootAccess": "Enabled", "PlatformIdentifier": "notebook-al2-v2",
            "InstanceMetadataServiceConfiguration": {"MinimumInstanceMetadataServiceVersion": "2"}}
    text = (f"$ aws sagemaker describe-notebook-instance --notebook-instance-name {nb}\n"
            + json.dumps(body, indent=4) + "\n"
            f"$ aws sagemaker create-presigned-notebook-instance-url --notebook-instance-name {nb} --query AuthorizedUrl\n"
            f"\"https://{nb}.notebook.{r}.sagemaker.aws?authToken={g.alnum(120, _B64[:62])}\"\n")
    return text, [a, nb, sub, sg, eni, kid, lcc, repo], ["notebook-al2-v2", "ml.t3.xlarge",
                                                         '"DirectInternetAccess": "Disabled"']


def _v15_bedrock(g: Gen):
    r, a = g.region(), g.account()
    aid, kb, suf = g.alnum(10, _V15_UPPER), g.alnum(10, _V15_UPPER), g.alnum(10, _V15_UPPER)
    agname, cid, b = _v15_lname(g) + "-agent", g.alnum(20), g.bucket()
    dsid = g.alnum(10, _V15_UPPER)
    agent = {"agent": {"agentArn": f"arn:aws:bedrock:{r}:{a}:agent/{aid}", "agentId": aid, "agentName": agname,
                       "agentResourceRoleArn": f"arn:aws:iam::{a}:role/service-role/AmazonBedrockExecutionRoleForAgents_{suf}",
                       "agentStatus": "PREPARED", "agentVersion": "DRAFT",
                       "foundationModel": "anthropic.claude-3-5-sonnet-20240620-v1:0", "idleSessionTTLInSeconds": 600,
                       "preparedAt": f"{_v15_ts(g)}.181344+00:00"}}
    store = {"type": "OPENSEARCH_SERVERLESS", "opensearchServerlessConfiguration": {
        "collectionArn": f"arn:aws:aoss:{r}:{a}:collection/{cid}", "vectorIndexName": "bedrock-knowledge-base-default-index",
        "fieldMapping": {"vectorField": "bedrock-knowledge-base-default-vector", "textField": "AMAZON_BEDROCK_TEXT_CHUNK",
                         "metadataField": "AMAZON_BEDROCK_METADATA"}}}
    text = (f"$ aws bedrock-agent get-agent --agent-id {aid}\n" + json.dumps(agent, indent=4) + "\n"
            f"$ aws bedrock-agent get-knowledge-base --knowledge-base-id {kb} --query 'knowledgeBase.storageConfiguration'\n"
            + json.dumps(store, indent=4) + "\n"
            f"$ aws bedrock-agent get-data-source --knowledge-base-id {kb} --data-source-id {dsid} "
            "--query 'dataSource.dataSourceConfiguration.s3Configuration'\n"
            f"{{\n    \"bucketArn\": \"arn:aws:s3:::{b}\",\n    \"inclusionPrefixes\": [\n        \"kb/\"\n    ]\n}}\n")
    return text, [a, aid, kb, suf, agname, cid, b, dsid], [
        "anthropic.claude-3-5-sonnet-20240620-v1:0", '"agentStatus": "PREPARED"', "AMAZON_BEDROCK_TEXT_CHUNK"]


def _v15_iot(g: Gen):
    r, a, pref = g.region(), g.account(), g.alnum(14)
    thing = g.name("msn") + "-gw"
    cert, tid, policy = _v15_hex(g, 64), _v15_uuid(g), _v15_lname(g) + "-iot-policy"
    ttype = g.pick(_PREFIX).capitalize() + g.pick(["Gateway", "Sensor", "Meter"])
    carn = f"arn:aws:iot:{r}:{a}:cert/{cert}"
    text = ("$ aws iot describe-endpoint --endpoint-type iot:Data-ATS\n"
            f"{{\n    \"endpointAddress\": \"{pref}-ats.iot.{r}.amazonaws.com\"\n}}\n"
            f"$ aws iot create-keys-and-certificate --set-as-active --certificate-pem-outfile {thing}.cert.pem "
            f"--public-key-outfile {thing}.public.key --private-key-outfile {thing}.private.key "
            "--query '[certificateArn,certificateId]'\n"
            f"[\n    \"{carn}\",\n    \"{cert}\"\n]\n"
            f"$ aws iot attach-policy --policy-name {policy} --target {carn}\n"
            f"$ aws iot attach-thing-principal --thing-name {thing} --principal {carn}\n"
            f"$ aws iot describe-thing --thing-name {thing}\n"
            + json.dumps({"defaultClientId": thing, "thingName": thing, "thingId": tid,
                          "thingArn": f"arn:aws:iot:{r}:{a}:thing/{thing}", "thingTypeName": ttype,
                          "attributes": {"fw": "2.4.1"}, "version": 3}, indent=4) + "\n"
            f"$ mosquitto_pub --cafile AmazonRootCA1.pem --cert {thing}.cert.pem --key {thing}.private.key "
            f"-h {pref}-ats.iot.{r}.amazonaws.com -p 8883 -t 'dt/{thing}/telemetry' -m '{{\"t\":21.4}}'\n")
    return text, [a, pref, thing, cert, tid, policy, ttype], ["iot:Data-ATS", "attach-thing-principal",
                                                              "AmazonRootCA1.pem"]


def _v15_cognito(g: Gen):
    r, a = g.region(), g.account()
    pool, ipool = f"{r}_{g.alnum(9, _B64[:62])}", _v15_uuid(g)
    client, api, dp, b, dom = g.alnum(26), g.alnum(26), _v15_lname(g), g.bucket(), _v15_dom(g)
    fn = _v15_lname(g)
    text = ("// src/aws-exports.js  (generated by Amplify, do not edit)\nconst awsmobile = {\n"
            f"    \"aws_project_region\": \"{r}\",\n"
            f"    \"aws_cognito_identity_pool_id\": \"{r}:{ipool}\",\n"
            f"    \"aws_user_pools_id\": \"{pool}\",\n"
            f"    \"aws_user_pools_web_client_id\": \"{client}\",\n"
            "    \"oauth\": {\n"
            f"        \"domain\": \"{dp}.auth.{r}.amazoncognito.com\",\n"
            "        \"scope\": [\"openid\", \"email\", \"profile\", \"aws.cognito.signin.user.admin\"],\n"
            f"        \"redirectSignIn\": \"https://app.{dom}/callback\",\n"
            "        \"responseType\": \"code\"\n    },\n"
            f"    \"aws_appsync_graphqlEndpoint\": \"https://{api}.appsync-api.{r}.amazonaws.com/graphql\",\n"
            "    \"aws_appsync_authenticationType\": \"AMAZON_COGNITO_USER_POOLS\",\n"
            f"    \"aws_user_files_s3_bucket\": \"{b}\"\n}};\nexport default awsmobile;\n\n"
            f"$ aws cognito-idp describe-user-pool --user-pool-id {pool} "
            "--query 'UserPool.{Name:Name,Mfa:MfaConfiguration,Domain:Domain,PreToken:LambdaConfig.PreTokenGeneration}'\n"
            f"{{\n    \"Name\": \"{dp}-users\",\n    \"Mfa\": \"OPTIONAL\",\n    \"Domain\": \"{dp}\",\n"
            f"    \"PreToken\": \"arn:aws:lambda:{r}:{a}:function:{fn}\"\n}}\n")
    return text, [pool, ipool, client, api, dp, b, dom, a, fn], [
        "aws.cognito.signin.user.admin", "AMAZON_COGNITO_USER_POOLS", '"responseType": "code"']


# services: Global Accelerator, Route 53 Resolver (an Italian runbook), Network Firewall, CloudHSM, Control Tower (a
# Linear ticket), IAM Identity Center, Direct Connect (a Japanese Slack thread), Directory Service (a Spanish Jira
# ticket), WorkSpaces (a German email)
def _v15_global_accelerator(g: Gen):
    r, a, u, name = g.region(), g.account(), _v15_uuid(g), _v15_lname(g)
    ip1 = f"75.2.{g.r.randint(0, 127)}.{g.r.randint(10, 250)}"
    ip2 = f"99.83.{g.r.randint(128, 255)}.{g.r.randint(10, 250)}"
    dns, lis, eg = _v15_hex(g, 16), g.alnum(8), g.alnum(12)
    alb, albid = _v15_lname(g), _v15_hex(g, 16)
    arn = f"arn:aws:globalaccelerator::{a}:accelerator/{u}"
    acc = {"Accelerator": {"AcceleratorArn": arn, "Name": name, "IpAddressType": "IPV4",
                           "IpSets": [{"IpFamily": "IPv4", "IpAddresses": [ip1, ip2], "IpAddressFamily": "IPv4"}],
                           "DnsName": f"{dns}.awsglobalaccelerator.com", "Status": "DEPLOYED"}}
    egs = {"EndpointGroups": [{"EndpointGroupArn": f"{arn}/listener/{lis}/endpoint-group/{eg}",
                               "EndpointGroupRegion": r, "EndpointDescriptions": [{
                                   "EndpointId": f"arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{alb}/{albid}",
                                   "Weight": 128, "HealthState": "HEALTHY", "ClientIPPreservationEnabled": True}],
                               "HealthCheckPort": 443, "HealthCheckProtocol": "HTTPS"}]}
    text = (f"$ aws globalaccelerator describe-accelerator --region us-west-2 --accelerator-arn {arn}\n"
            + json.dumps(acc, indent=2) + "\n"
            f"$ aws globalaccelerator list-endpoint-groups --region us-west-2 --listener-arn {arn}/listener/{lis}\n"
            + json.dumps(egs, indent=2) + "\n")
    return text, [a, u, name, ip1, ip2, dns, lis, eg, alb, albid], [
        "--region us-west-2", '"HealthState": "HEALTHY"', '"IpAddressType": "IPV4"', f'"EndpointGroupRegion": "{r}"']


def _v15_resolver_it(g: Gen):
    r, a, vpc = g.region(), g.account(), g.hexid("vpc")
    out, rr, epname, sg = "rslvr-out-" + _v15_hex(g, 17), "rslvr-rr-" + _v15_hex(g, 17), _v15_lname(g) + "-outbound", g.hexid("sg")
    ad = f"{g.pick(['corp', 'ad', 'intra'])}.{_v15_dom(g)}"
    host = f"{g.pick(['fs01', 'dc02', 'sql03', 'print01'])}.{ad}"
    ip1, ip2, ip3, iid, lg = _v15_ip10(g), _v15_ip10(g), _v15_ip10(g), g.iid(), _v15_lname(g)
    q = json.dumps({"version": "1.100000", "account_id": a, "region": r, "vpc_id": vpc,
                    "query_timestamp": _v15_ts(g) + "Z", "query_name": host + ".", "query_type": "A",
                    "query_class": "IN", "rcode": "SERVFAIL", "answers": [], "srcaddr": ip3,
                    "srcport": str(g.r.randint(1024, 65000)), "transport": "UDP",
                    "srcids": {"instance": iid, "resolver_endpoint": out}}, separators=(",", ":"))
    text = ("## Runbook: inoltro DNS verso l'Active Directory on-premise\n\n"
            f"**Ambito:** account {a} ({r}), VPC {vpc}\n**Reperibilità:** team piattaforma\n\n"
            "1. Verificare che l'endpoint in uscita sia operativo:\n\n"
            f"       $ aws route53resolver get-resolver-endpoint --resolver-endpoint-id {out} "
            "--query 'ResolverEndpoint.[Name,Status,IpAddressCount,SecurityGroupIds[0]]' --output text\n"
            f"       {epname}\tOPERATIONAL\t2\t{sg}\n\n"
            "2. Regole di inoltro associate alla VPC:\n\n"
            "   | Regola | Dominio | Destinazioni | Tipo |\n   |---|---|---|---|\n"
            f"   | {rr} | {ad}. | {ip1}:53, {ip2}:53 | FORWARD |\n"
            "   | rslvr-autodefined-rr-internet-resolver | . | — | RECURSIVE |\n\n"
            f"3. Se le query falliscono, cercare SERVFAIL nel gruppo di log /aws/route53resolver/{lg}:\n\n"
            f"       {q}\n\n"
            "4. Non modificare la regola di sistema `rslvr-autodefined-rr-internet-resolver`: è gestita da AWS.\n")
    return text, [a, vpc, out, rr, epname, sg, ad, host, ip1, ip2, ip3, iid, lg], [
        "rslvr-autodefined-rr-internet-resolver", "OPERATIONAL", '"rcode":"SERVFAIL"', '"transport":"UDP"']


def _v15_network_firewall(g: Gen):
    r, fw = g.region(), _v15_lname(g) + "-fw"
    az1, az2 = r + "a", r + "b"
    s1, s2, e1, e2 = g.hexid("subnet"), g.hexid("subnet"), g.hexid("vpce"), g.hexid("vpce")
    src1, src2 = _v15_ip10(g), _v15_ip10(g)

    def alert(az, src, extra, sid, sig):
        ev = {"firewall_name": fw, "availability_zone": az, "event_timestamp": str(g.r.randint(1715000000, 1716000000)),
              "event": {"timestamp": f"{_v15_ts(g)}.{g.r.randint(100000, 999999)}+0000",
                        "flow_id": g.r.randint(10 ** 15, 10 ** 16 - 1), "event_type": "alert", "src_ip": src,
                        "src_port": g.r.randint(32768, 60999), "dest_ip": f"203.0.113.{g.r.randint(2, 250)}",
                        "dest_port": 443, "proto": "TCP", **extra,
                        "alert": {"action": "blocked", "signature_id": sid, "rev": 1, "signature": sig,
                                  "category": "", "severity": 3}}}
        return json.dumps(ev, separators=(",", ":"))
    text = (f"$ aws logs tail /aws/network-firewall/{fw}/alert --since 1h --format short\n"
            + alert(az1, src1, {"app_proto": "tls", "tls": {"sni": "paste.example.net"}}, 1000003,
                    "egress: SNI not on allowlist") + "\n"
            + alert(az2, src2, {"app_proto": "http", "http": {"hostname": "203.0.113.9", "url": "/x.sh"}}, 1000007,
                    "egress: raw IP HTTP") + "\n"
            f"$ aws network-firewall describe-firewall --firewall-name {fw} --query 'FirewallStatus.SyncStates'\n"
            + json.dumps({az1: {"Attachment": {"SubnetId": s1, "EndpointId": e1, "Status": "READY"}},
                          az2: {"Attachment": {"SubnetId": s2, "EndpointId": e2, "Status": "READY"}}}, indent=4) + "\n")
    return text, [fw, s1, s2, e1, e2, src1, src2], ['"event_type":"alert"', '"action":"blocked"',
                                                    f'"availability_zone":"{az1}"']


def _v15_cloudhsm(g: Gen):
    r = g.region()
    az1, az2 = r + "a", r + "c"
    chars = "abcdefghijklmnopqrstuvwxyz234567"
    cid, h1, h2 = "cluster-" + g.alnum(11, chars), "hsm-" + g.alnum(11, chars), "hsm-" + g.alnum(11, chars)
    s1, s2, n1, n2 = g.hexid("subnet"), g.hexid("subnet"), g.hexid("eni"), g.hexid("eni")
    ip1, ip2, sg, vpc = _v15_ip10(g), _v15_ip10(g), g.hexid("sg"), g.hexid("vpc")
    cu = g.pick(["crypto_", "cu_", "app"]) + g.pick(_MIDDLE)

    def hsm(az, s, n, ip, h):
        return {"AvailabilityZone": az, "ClusterId": cid, "SubnetId": s, "EniId": n, "EniIp": ip, "HsmId": h,
                "State": "ACTIVE"}
    c = {"BackupPolicy": "DEFAULT", "ClusterId": cid,
         "Hsms": [hsm(az1, s1, n1, ip1, h1), hsm(az2, s2, n2, ip2, h2)], "HsmType": "hsm1.medium",
         "SecurityGroup": sg, "State": "ACTIVE", "SubnetMapping": {az1: s1, az2: s2}, "VpcId": vpc}
    text = (f"$ aws cloudhsmv2 describe-clusters --filters clusterIds={cid} --query 'Clusters[0]'\n"
            + json.dumps(c, indent=2) + "\n"
            "$ /opt/cloudhsm/bin/cloudhsm-cli interactive\n"
            f"aws-cloudhsm > login --username {cu} --role crypto-user\nEnter password:\n"
            f"{{\"error_code\": 0, \"data\": {{\"username\": \"{cu}\", \"role\": \"crypto-user\"}}}}\n")
    return text, [cid, h1, h2, s1, s2, n1, n2, ip1, ip2, sg, vpc, cu], [
        "hsm1.medium", '"BackupPolicy": "DEFAULT"', "crypto-user", f'"AvailabilityZone": "{az1}"']


def _v15_control_tower(g: Gen):
    r, a, a2, a3 = g.region(), g.account(), g.account(), g.account()
    lz, org = g.alnum(16, _V15_UPPER), g.org()
    root, ou = "r-" + g.alnum(4), f"ou-{g.alnum(4)}-{g.alnum(8)}"
    ec, dom = g.alnum(12, _V15_UPPER), _v15_dom(g)
    acct = g.name("pms")
    email = f"aws+{acct}@{dom}"
    ctl = f"arn:aws:controltower:{r}::control/AWS-GR_RESTRICT_ROOT_USER"
    text = (f"PLAT-{g.r.randint(100, 2999)}  Enable root-user and region-deny controls on the Workloads OU\n"
            f"Status: In Progress · Priority: High · Assignee: {g.person()} · Labels: control-tower, governance\n\n"
            "**Context**\n"
            f"Landing zone arn:aws:controltower:{r}:{a}:landingzone/{lz} (version 3.3) in the management account {a}. "
            f"The Workloads OU is `{ou}` under root `{root}`; it holds {a2} ({acct}) and {a3}.\n\n"
            "**What we ran**\n```\n"
            f"$ aws controltower enable-control --control-identifier {ctl} \\\n"
            f"    --target-identifier arn:aws:organizations::{a}:ou/{org}/{ou}\n"
            f"{{\n    \"arn\": \"arn:aws:controltower:{r}:{a}:enabledcontrol/{ec}\",\n"
            f"    \"operationIdentifier\": \"{_v15_uuid(g)}\"\n}}\n"
            "$ aws controltower get-control-operation --operation-identifier ... --query 'controlOperation.[status,statusMessage]' --output text\n"
            f"FAILED\tAccountEnrollmentFailed: Account {a3} is not enrolled in AWS Control Tower.\n```\n\n"
            "**Acceptance**\n"
            f"- [ ] {a3} re-enrolled through Account Factory (root email {email})\n"
            "- [ ] AWS-GR_RESTRICT_ROOT_USER and AWS-GR_REGION_DENY show SUCCEEDED on every account in the OU\n")
    return text, [a, a2, a3, lz, org, root, ou, ec, acct, email], [ctl, "AccountEnrollmentFailed", "AWS-GR_REGION_DENY"]


def _v15_identity_center(g: Gen):
    r, r2, a1, a2 = g.region(), g.region(), g.account(), g.account()
    alias, ins, ps1, ps2 = _v15_lname(g), _v15_hex(g, 16), _v15_hex(g, 16), _v15_hex(g, 16)
    store = "d-" + _v15_hex(g, 10)
    psname = g.pick(_PREFIX).capitalize() + g.pick(["DataEngineers", "ReadOnlyOps", "BillingAdmins"])
    uid = f"{_v15_hex(g, 10)}-{_v15_uuid(g)}"
    email = f"{g.person()}@{_v15_dom(g)}"
    text = ("$ cat ~/.aws/config\n[sso-session corp]\n"
            f"sso_start_url = https://{alias}.awsapps.com/start\nsso_region = {r}\n"
            "sso_registration_scopes = sso:account:access\n\n"
            f"[profile admin]\nsso_session = corp\nsso_account_id = {a1}\nsso_role_name = AdministratorAccess\nregion = {r2}\n\n"
            f"[profile data]\nsso_session = corp\nsso_account_id = {a2}\nsso_role_name = {psname}\nregion = {r2}\n\n"
            f"$ aws sso-admin list-permission-sets --instance-arn arn:aws:sso:::instance/ssoins-{ins} --profile admin\n"
            f"{{\n    \"PermissionSets\": [\n        \"arn:aws:sso:::permissionSet/ssoins-{ins}/ps-{ps1}\",\n"
            f"        \"arn:aws:sso:::permissionSet/ssoins-{ins}/ps-{ps2}\"\n    ]\n}}\n"
            f"$ aws sso-admin describe-permission-set --instance-arn arn:aws:sso:::instance/ssoins-{ins} "
            f"--permission-set-arn arn:aws:sso:::permissionSet/ssoins-{ins}/ps-{ps2} --query 'PermissionSet.[Name,SessionDuration]' --output text\n"
            f"{psname}\tPT8H\n"
            f"$ aws identitystore list-users --identity-store-id {store} --query 'Users[0].[UserName,UserId]' --output text\n"
            f"{email}\t{uid}\n")
    return text, [alias, a1, a2, ins, ps1, ps2, psname, store, uid, email], [
        "sso_role_name = AdministratorAccess", "PT8H", "sso:account:access"]


def _v15_dx_ja(g: Gen):
    a = g.account()
    dxcon, vif, dxgw, tgw = "dxcon-" + g.alnum(8), "dxvif-" + g.alnum(8), _v15_uuid(g), g.hexid("tgw")
    cname, vifname, gwname = _v15_lname(g) + "-10g", _v15_lname(g) + "-vif", _v15_lname(g) + "-dxgw"
    vlan, asn = g.r.randint(100, 3999), g.r.randint(64512, 65534)
    o = g.r.randint(0, 63) * 4
    peer_c, peer_a = f"169.254.{g.r.randint(0, 255)}.{o + 2}/30", f"169.254.{g.r.randint(0, 255)}.{o + 1}/30"
    router = f"edge-rt{g.r.randint(1, 4)}.{_v15_dom(g)}"
    p1, p2 = g.r.sample(_PEOPLE, 2)
    text = ("#ネットワーク運用\n"
            f"{p1}  10:42\n東京DCの専用線で BGP が落ちてます :rotating_light:\n"
            "```\n$ aws directconnect describe-virtual-interfaces --query 'virtualInterfaces[].[virtualInterfaceId,"
            "virtualInterfaceName,virtualInterfaceType,vlan,asn,virtualInterfaceState,connectionId,directConnectGatewayId]' --output text\n"
            f"{vif}\t{vifname}\tprivate\t{vlan}\t{asn}\tdown\t{dxcon}\t{dxgw}\n```\n"
            f"{p2}  10:45\n回線自体は available です。\n"
            f"```\n$ aws directconnect describe-connections --connection-id {dxcon} "
            "--query 'connections[0].[connectionName,connectionState,bandwidth,location,ownerAccount]' --output text\n"
            f"{cname}\tavailable\t10Gbps\tEqTY2\t{a}\n```\n"
            f"{p1}  10:47\nカスタマー側の BGP ピア {peer_c}、Amazon 側 {peer_a}。ルーターのログに「Hold Timer Expired」が出ています。\n"
            f"{p2}  10:51\nDX ゲートウェイ {gwname}（{dxgw}）にぶら下がっている TGW {tgw} のアタッチメントは正常です。"
            f"対向ルーター {router} を再起動してみます。\n")
    return text, [a, dxcon, vif, dxgw, tgw, cname, vifname, gwname, router], ["10Gbps", "EqTY2", "Hold Timer Expired"]


def _v15_ds_es(g: Gen):
    r = g.region()
    did, dom = "d-" + _v15_hex(g, 10), _v15_dom(g)
    domain = f"{g.pick(['corp', 'ad'])}.{dom}"
    short = g.pick(_PREFIX).upper() + g.pick(["CORP", "AD"])
    ip1, ip2, alias, iid = _v15_ip10(g), _v15_ip10(g), _v15_lname(g), g.iid()
    asg, sg, rtb = _v15_lname(g) + "-asg", g.hexid("sg"), g.hexid("rtb")
    text = (f"[SOPORTE-{g.r.randint(100, 9999)}] Las instancias nuevas no se unen al dominio {domain}\n"
            f"Tipo: Incidencia | Prioridad: Alta | Informador: {g.person()} | Componente: Directorio\n\n"
            "*Descripción*\n"
            f"Desde ayer las instancias nuevas del grupo de Auto Scaling {asg} ({r}) no se unen al dominio. "
            "El directorio es un AWS Managed Microsoft AD (edición Enterprise):\n\n"
            "{code:bash}\n"
            f"$ aws ds describe-directories --directory-ids {did} --query 'DirectoryDescriptions[0]."
            "{Nombre:Name,Corto:ShortName,Tipo:Type,Edicion:Edition,Estado:Stage,DNS:DnsIpAddrs,Url:AccessUrl}'\n"
            f"{{\n    \"Nombre\": \"{domain}\",\n    \"Corto\": \"{short}\",\n    \"Tipo\": \"MicrosoftAD\",\n"
            f"    \"Edicion\": \"Enterprise\",\n    \"Estado\": \"Active\",\n    \"DNS\": [\"{ip1}\", \"{ip2}\"],\n"
            f"    \"Url\": \"{alias}.awsapps.com\"\n}}\n{{code}}\n\n"
            f"Usamos el documento SSM AWS-JoinDirectoryServiceDomain con directoryId={did} y dnsIpAddresses={ip1},{ip2}. "
            f"En /var/log/amazon/ssm/errors.log de {iid} aparece:\n"
            "{noformat}\n"
            f"2024-05-14 09:12:44 ERROR [domainjoin] Failed to join domain {domain}: The specified domain either does "
            "not exist or could not be contacted.\n{noformat}\n\n"
            f"*Siguientes pasos:* revisar el grupo de seguridad {sg} (puertos 53, 88, 389, 445) y la tabla de rutas {rtb}.\n")
    return text, [did, domain, short, ip1, ip2, alias, iid, asg, sg, rtb], [
        "AWS-JoinDirectoryServiceDomain", '"Tipo": "MicrosoftAD"', '"Edicion": "Enterprise"']


def _v15_workspaces_de(g: Gen):
    r, a, dom = g.region(), g.account(), _v15_dom(g)
    ws = ["ws-" + g.alnum(9) for _ in range(3)]
    ips = [_v15_ip10(g) for _ in range(3)]
    users = [p.replace(".", "") for p in g.r.sample(_PEOPLE, 3)]
    wsb, did, sg = "wsb-" + g.alnum(9), "d-" + _v15_hex(g, 10), g.hexid("sg")
    reg = "SLiad+" + g.alnum(6, _V15_UPPER)
    sender = g.person()
    rows = [(ws[0], users[0], "AVAILABLE", "AUTO_STOP", ips[0]), (ws[1], users[1], "STOPPED", "AUTO_STOP", ips[1]),
            (ws[2], users[2], "ERROR", "ALWAYS_ON", ips[2])]
    table = "\n".join(f"{w:<15}{u:<14}{s:<11}{wsb:<15}{m:<11}{ip}" for w, u, s, m, ip in rows)
    text = ("Betreff: WorkSpaces für das Controlling – Stand und offene Punkte\n"
            f"Von: {sender}@{dom}\nAn: it-betrieb@{dom}\n\nHallo zusammen,\n\n"
            f"anbei der aktuelle Stand der WorkSpaces im Konto {a} (Region {r}):\n\n"
            f"{'WorkspaceId':<15}{'Benutzer':<14}{'Status':<11}{'Bundle':<15}{'Modus':<11}IP\n{table}\n\n"
            f"Alle hängen am Verzeichnis {did}; der Registrierungscode für den Client lautet {reg}.\n"
            f"Bei {ws[2]} schlägt der Rebuild fehl: \"The specified WorkSpace is in an invalid state for this operation\" "
            "(InvalidResourceStateException).\n\n"
            f"Könnt ihr bitte prüfen, ob die Sicherheitsgruppe {sg} noch Port 4172 (PCoIP) freigibt?\n\n"
            f"Viele Grüße\n{sender}\n")
    return text, [a, dom, *ws, *ips, did, sg, reg], ["AUTO_STOP", "ALWAYS_ON", "InvalidResourceStateException", "PCoIP"]


# tools: Ansible aws_ec2 inventory, Pulumi, CDK diff, Serverless Framework, SAM, Salt Cloud, Packer, Vault
def _v15_ansible_inventory(g: Gen):
    r, a, role = g.region(), g.account(), _v15_role(g)
    az = r + g.pick("abc")
    ips = [_v15_ip10(g) for _ in range(3)]
    hosts = [_v15_pdns(ip, r) for ip in ips]
    text = ("# inventory/aws_ec2.yml\nplugin: amazon.aws.aws_ec2\nregions:\n"
            f"  - {r}\n"
            "filters:\n  tag:Environment: production\n  instance-state-name: running\n"
            "keyed_groups:\n  - key: tags.Role\n    prefix: role\n  - key: placement.availability_zone\n    prefix: az\n"
            "hostnames:\n  - private-dns-name\ncompose:\n  ansible_host: private_ip_address\n"
            f"iam_role_arn: arn:aws:iam::{a}:role/{role}\n\n"
            "$ ansible-inventory -i inventory/aws_ec2.yml --graph\n@all:\n  |--@ungrouped:\n  |--@aws_ec2:\n"
            + "".join(f"  |  |--{h}\n" for h in hosts)
            + "  |--@role_web:\n" + "".join(f"  |  |--{h}\n" for h in hosts[:2])
            + f"  |--@az_{az.replace('-', '_')}:\n" + "".join(f"  |  |--{h}\n" for h in hosts)
            + "$ ansible -i inventory/aws_ec2.yml role_web -m ping\n"
            + f"{hosts[0]} | SUCCESS => {{\n    \"changed\": false,\n    \"ping\": \"pong\"\n}}\n")
    return text, [a, role, *(_v15_ipname(ip) for ip in ips)], [
        "amazon.aws.aws_ec2", '"ping": "pong"', "private-dns-name", f"az_{az.replace('-', '_')}"]


def _v15_pulumi(g: Gen):
    r, a = g.region(), g.account()
    apiid, bl, bh = g.alnum(10), _v15_lname(g), _v15_hex(g, 7)
    eks, eh, db, cid = _v15_lname(g), _v15_hex(g, 7), _v15_lname(g), g.alnum(12)
    pw, role, vpc = _v15_pw(g, 28), _v15_role(g), g.hexid("vpc")
    proj, stack = g.pick(_MIDDLE) + "-infra", g.pick(["prod", "staging"])
    out = {"apiUrl": f"https://{apiid}.execute-api.{r}.amazonaws.com/stage/", "bucketName": f"{bl}-{bh}",
           "clusterName": f"{eks}-eksCluster-{eh}", "dbEndpoint": f"{db}.{cid}.{r}.rds.amazonaws.com:5432",
           "dbPassword": pw, "kubeconfigRoleArn": f"arn:aws:iam::{a}:role/{role}", "vpcId": vpc}
    text = ("$ pulumi stack output --json --show-secrets\n" + json.dumps(out, indent=2) + "\n"
            "$ pulumi stack --show-urns | sed -n '1,12p'\n"
            f"Current stack is {stack}:\n    Managed by ci-runner\n    Last updated: 2 hours ago\n"
            "Current stack resources (41):\n"
            "    TYPE                               NAME\n"
            f"    pulumi:pulumi:Stack                {proj}-{stack}\n"
            f"    │  URN: urn:pulumi:{stack}::{proj}::pulumi:pulumi:Stack::{proj}-{stack}\n"
            f"    ├─ aws:s3/bucketV2:BucketV2         {bl}\n"
            f"    │  URN: urn:pulumi:{stack}::{proj}::aws:s3/bucketV2:BucketV2::{bl}\n"
            f"    ├─ aws:rds/instance:Instance       {db}\n"
            f"    │  URN: urn:pulumi:{stack}::{proj}::aws:rds/instance:Instance::{db}\n")
    return text, [apiid, f"{bl}-{bh}", f"{eks}-eksCluster-{eh}", db, cid, pw, a, role, vpc], [
        "pulumi:pulumi:Stack", "aws:s3/bucketV2:BucketV2", "aws:rds/instance:Instance"]


def _v15_cdk_diff(g: Gen):
    r, a, b, kid = g.region(), g.account(), g.bucket(), _v15_uuid(g)
    st = g.pick(_MIDDLE).capitalize() + g.pick(["Service", "Pipeline", "Api"]) + "Stack"
    old, new = g.name("Camel"), g.name("Camel")
    rows = [("+", "${DeadLetterQueue.Arn}", "Allow", "sqs:SendMessage", "Service:events.amazonaws.com"),
            ("+", f"arn:aws:s3:::{b}/*", "Allow", "s3:GetObject", "AWS:${HandlerServiceRole}"),
            ("+", f"arn:aws:kms:{r}:{a}:key/{kid}", "Allow", "kms:Decrypt", "AWS:${HandlerServiceRole}")]
    w = [max(len(x[i]) for x in rows + [("", "Resource", "Effect", "Action", "Principal")]) for i in range(5)]

    def row(c, cond=""):
        return "│" + "│".join(f" {v:<{n}} " for v, n in zip(c, w, strict=True)) + f"│ {cond:<9} │"
    bar = "─" * 11
    text = (f"$ npx cdk diff {st}\nStack {st}\nIAM Statement Changes\n"
            "┌" + "┬".join("─" * (n + 2) for n in w) + "┬" + bar + "┐\n"
            + row(("", "Resource", "Effect", "Action", "Principal"), "Condition") + "\n"
            "├" + "┼".join("─" * (n + 2) for n in w) + "┼" + bar + "┤\n"
            + "\n".join(row(x) for x in rows) + "\n"
            "└" + "┴".join("─" * (n + 2) for n in w) + "┴" + bar + "┘\n"
            "(NOTE: There may be security-related changes not in this list. See https://github.com/aws/aws-cdk/issues/1299)\n\n"
            "Resources\n[+] AWS::SQS::Queue DeadLetterQueue DeadLetterQueue9F481546\n"
            "[+] AWS::Lambda::Function Handler Handler886CB40B\n"
            "[~] AWS::Lambda::Function Worker Worker2B5A4F1C\n └─ [~] Environment\n     └─ [~] .Variables:\n"
            f"         └─ [~] .TABLE_NAME:\n             ├─ [-] {old}\n             └─ [+] {new}\n\n"
            f"Stack {st} is deployed to {a}/{r}\n\n✨  Number of stacks with differences: 1\n")
    return text, [st, b, a, kid, old, new], ["AWS::SQS::Queue", "Service:events.amazonaws.com", "sqs:SendMessage",
                                              "https://github.com/aws/aws-cdk/issues/1299"]


def _v15_serverless(g: Gen):
    r, a, svc, stage = g.region(), g.account(), g.pick(_MIDDLE) + "-" + g.pick(["svc", "api", "backend"]), g.pick(["dev", "prod"])
    apiid, depb, role, q = g.alnum(10), g.bucket(), _v15_role(g), _v15_lname(g)
    n = g.r.randint(2, 40)
    text = ("# serverless.yml (excerpt)\n"
            f"service: {svc}\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  region: {r}\n"
            f"  deploymentBucket:\n    name: {depb}\n  iam:\n    role: arn:aws:iam::{a}:role/{role}\n"
            f"  environment:\n    QUEUE_URL: https://sqs.{r}.amazonaws.com/{a}/{q}\n\n"
            f"$ serverless deploy --stage {stage} --region {r}\n\n"
            f"Deploying {svc} to stage {stage} ({r})\n\n"
            f"✔ Service deployed to stack {svc}-{stage} (112s)\n\n"
            "endpoints:\n"
            f"  POST - https://{apiid}.execute-api.{r}.amazonaws.com/{stage}/orders\n"
            f"  GET - https://{apiid}.execute-api.{r}.amazonaws.com/{stage}/orders/{{id}}\n"
            "functions:\n"
            f"  createOrder: {svc}-{stage}-createOrder (2.1 MB)\n"
            f"  getOrder: {svc}-{stage}-getOrder (2.1 MB)\n"
            f"  processQueue: {svc}-{stage}-processQueue (2.1 MB)\n"
            f"layers:\n  deps: arn:aws:lambda:{r}:{a}:layer:{svc}-deps:{n}\n\n"
            "Need a faster logging experience than CloudWatch? Try our Dev Mode in Console: run \"serverless dev\"\n")
    return text, [svc, a, apiid, depb, role, q], ["nodejs20.x", '"serverless dev"']


def _v15_sam(g: Gen):
    r, a, st = g.region(), g.account(), _v15_lname(g)
    suf, repo, vpc = g.alnum(12), _v15_lname(g), g.hexid("vpc")
    s1, s2, apiid = g.hexid("subnet"), g.hexid("subnet"), g.alnum(10)
    fn = g.pick(_MIDDLE).capitalize() + "Function"
    phys = f"{st}-{fn}-{g.alnum(12, _V15_UPPER[:26] + 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    dash = "-" * 96
    text = ("$ cat samconfig.toml\nversion = 0.1\n[default.deploy.parameters]\n"
            f"stack_name = \"{st}\"\nresolve_s3 = false\n"
            f"s3_bucket = \"aws-sam-cli-managed-default-samclisourcebucket-{suf}\"\ns3_prefix = \"{st}\"\n"
            f"region = \"{r}\"\ncapabilities = \"CAPABILITY_IAM CAPABILITY_AUTO_EXPAND\"\n"
            f"image_repositories = [\"{fn}={a}.dkr.ecr.{r}.amazonaws.com/{repo}\"]\n"
            f"parameter_overrides = \"Stage=\\\"prod\\\" VpcId=\\\"{vpc}\\\" SubnetIds=\\\"{s1},{s2}\\\"\"\n\n"
            "$ sam deploy\n...\nCloudFormation outputs from deployed stack\n"
            f"{dash}\nOutputs\n{dash}\n"
            "Key                 ApiEndpoint\nDescription         API Gateway endpoint URL for Prod stage\n"
            f"Value               https://{apiid}.execute-api.{r}.amazonaws.com/Prod/\n\n"
            f"Key                 {fn}Arn\nDescription         Function ARN\n"
            f"Value               arn:aws:lambda:{r}:{a}:function:{phys}\n{dash}\n\n"
            f"Successfully created/updated stack - {st} in {r}\n")
    return text, [st, suf, a, repo, vpc, s1, s2, apiid, phys], [
        "CAPABILITY_AUTO_EXPAND", "resolve_s3 = false", "API Gateway endpoint URL for Prod stage"]


def _v15_salt_cloud(g: Gen):
    r, a = g.region(), g.account()
    az = r + g.pick("abc")
    k, s, kp, sg, sub = g.akid(), g.secret(), _v15_lname(g) + "-key", g.hexid("sg"), g.hexid("subnet")
    ami, prof, dom = g.hexid("ami"), _v15_lname(g), _v15_dom(g)
    minion = f"web-{g.r.randint(10, 99)}.{dom}"
    iid, ip = g.iid(), _v15_ip10(g)
    text = ("# /etc/salt/cloud.providers.d/ec2.conf\naws-main:\n  driver: ec2\n"
            f"  id: '{k}'\n  key: '{s}'\n  private_key: /etc/salt/keys/{kp}.pem\n  keyname: {kp}\n"
            f"  securitygroupid:\n    - {sg}\n  location: {r}\n  availability_zone: {az}\n"
            f"  subnetid: {sub}\n  ssh_username: ec2-user\n  ssh_interface: private_ips\n\n"
            "# /etc/salt/cloud.profiles.d/web.conf\nweb-al2023:\n  provider: aws-main\n"
            f"  image: {ami}\n  size: m6i.large\n  iam_profile: arn:aws:iam::{a}:instance-profile/{prof}\n"
            f"  minion:\n    master: salt.{dom}\n\n"
            f"$ sudo salt-cloud -p web-al2023 {minion}\n[INFO    ] Created node {minion}\n"
            f"{minion}:\n    ----------\n    instanceId:\n        {iid}\n    privateIpAddress:\n        {ip}\n"
            "    instanceState:\n        ----------\n        name:\n            running\n")
    return text, [k, s, kp, sg, sub, ami, a, prof, dom, iid, ip], ["m6i.large", "ssh_interface: private_ips", "driver: ec2"]


def _v15_packer(g: Gen):
    r, a, a2, a3 = g.region(), g.account(), g.account(), g.account()
    vpc, sub, sg, prof = g.hexid("vpc"), g.hexid("subnet"), g.hexid("sg"), _v15_lname(g)
    alias, img = _v15_lname(g), g.pick(_MIDDLE) + "-base-al2023"
    src, iid, ip, ami = g.hexid("ami"), g.iid(), _v15_ip10(g), g.hexid("ami")
    ts = g.r.randint(1715000000, 1716000000)
    text = ("source \"amazon-ebs\" \"base\" {\n"
            f"  region               = \"{r}\"\n  instance_type        = \"t3.medium\"\n"
            f"  ami_name             = \"{img}-${{local.ts}}\"\n  vpc_id               = \"{vpc}\"\n"
            f"  subnet_id            = \"{sub}\"\n  security_group_id    = \"{sg}\"\n"
            f"  iam_instance_profile = \"{prof}\"\n  encrypt_boot         = true\n"
            f"  kms_key_id           = \"arn:aws:kms:{r}:{a}:alias/{alias}\"\n"
            f"  ami_users            = [\"{a2}\", \"{a3}\"]\n"
            "  source_ami_filter {\n"
            "    filters     = { name = \"al2023-ami-2023.*-x86_64\", virtualization-type = \"hvm\" }\n"
            "    owners      = [\"amazon\"]\n    most_recent = true\n  }\n  ssh_username = \"ec2-user\"\n}\n\n"
            f"==> amazon-ebs.base: Prevalidating AMI Name: {img}-{ts}\n"
            f"    amazon-ebs.base: Found Image ID: {src}\n"
            "==> amazon-ebs.base: Launching a source AWS instance...\n"
            f"    amazon-ebs.base: Instance ID: {iid}\n"
            f"==> amazon-ebs.base: Waiting for instance ({iid}) to become ready...\n"
            f"==> amazon-ebs.base: Using SSH communicator to connect: {ip}\n"
            f"==> amazon-ebs.base: Creating AMI {img}-{ts} from instance {iid}\n"
            f"    amazon-ebs.base: AMI: {ami}\n"
            "Build 'amazon-ebs.base' finished after 7 minutes 12 seconds.\n\n"
            f"==> Builds finished. The artifacts of successful builds are:\n--> amazon-ebs.base: AMIs were created:\n{r}: {ami}\n")
    return text, [vpc, sub, sg, prof, a, alias, a2, a3, iid, ip, ami], [
        "al2023-ami-2023.*-x86_64", "Build 'amazon-ebs.base' finished", "t3.medium"]


def _v15_vault(g: Gen):
    r, a, k, s = g.region(), g.account(), g.akid(), g.secret()
    vrole, role = g.pick(_MIDDLE) + "-deployer", _v15_role(g)
    asia, s2, tok = _v15_asia(g), g.secret(), _v15_token(g)
    text = (f"$ vault write aws/config/root access_key={k} secret_key={s} region={r}\n"
            "Success! Data written to: aws/config/root\n"
            f"$ vault write aws/roles/{vrole} credential_type=assumed_role role_arns=arn:aws:iam::{a}:role/{role} default_sts_ttl=1h\n"
            f"Success! Data written to: aws/roles/{vrole}\n"
            f"$ vault write aws/sts/{vrole} ttl=1h\n"
            "Key                Value\n---                -----\n"
            f"lease_id           aws/sts/{vrole}/{g.alnum(24, _B64[:62])}\nlease_duration     59m59s\n"
            f"lease_renewable    false\naccess_key         {asia}\n"
            f"arn                arn:aws:sts::{a}:assumed-role/{role}/vault-token-{vrole}-{g.r.randint(1715000000, 1716000000)}-{g.r.randint(1000, 9999)}\n"
            f"secret_key         {s2}\nsecurity_token     {tok}\nsession_token      {tok}\n")
    return text, [k, s, a, role, asia, s2, tok], ["credential_type=assumed_role", "lease_renewable    false",
                                                  "Success! Data written to: aws/config/root"]


# tools: Consul and Nomad, Spinnaker, Argo CD, Helm values, Kustomize, Crossplane, Test Kitchen
def _v15_consul_nomad(g: Gen):
    r, a = g.region(), g.account()
    az = r + g.pick("abc")
    tagval, gossip = _v15_lname(g) + "-consul", g.alnum(43, _B64) + "="
    ips = [_v15_ip10(g) for _ in range(3)]
    repo, job = _v15_lname(g), g.pick(_MIDDLE) + "-api"
    nodes = "\n".join(f"{_v15_ipname(ip):<22}{ip + ':8301':<22}alive   {t:<8}1.18.1  2         dc1  default    <all>"
                      for ip, t in zip(ips, ["server", "server", "client"], strict=True))
    text = ("# /etc/consul.d/consul.hcl\ndatacenter = \"dc1\"\n"
            f"retry_join = [\"provider=aws region={r} tag_key=ConsulAutoJoin tag_value={tagval} addr_type=private_address\"]\n"
            f"encrypt    = \"{gossip}\"\n\n"
            f"$ consul members\n{'Node':<22}{'Address':<22}Status  Type    Build   Protocol  DC   Partition  Segment\n{nodes}\n\n"
            f"# jobs/{job}.nomad.hcl (excerpt)\n"
            f"job \"{job}\" {{\n  constraint {{\n    attribute = \"${{attr.platform.aws.placement.availability-zone}}\"\n"
            f"    value     = \"{az}\"\n  }}\n  group \"api\" {{\n    task \"server\" {{\n      driver = \"docker\"\n"
            f"      config {{\n        image = \"{a}.dkr.ecr.{r}.amazonaws.com/{repo}:1.42.0\"\n      }}\n    }}\n  }}\n}}\n\n"
            f"$ nomad job status {job} | tail -3\nID        Node ID   Task Group  Version  Desired  Status   Created  Modified\n"
            f"{_v15_hex(g, 8)}  {_v15_hex(g, 8)}  api         7        run      running  2m ago   1m ago\n")
    return text, [tagval, gossip, *ips, *(_v15_ipname(ip) for ip in ips), a, repo], [
        "provider=aws", "addr_type=private_address", "attr.platform.aws.placement.availability-zone",
        f"value     = \"{az}\""]


def _v15_spinnaker(g: Gen):
    r, app = g.region(), g.pick(_MIDDLE) + g.pick(["svc", "api", "web"])
    acct = g.pick(_PREFIX) + "-prod-aws"
    prof, kp, tg = _v15_lname(g) + "-profile", _v15_lname(g) + "-kp", _v15_lname(g) + "-tg"
    sg1, sg2, vpc = g.hexid("sg"), g.hexid("sg"), g.hexid("vpc")
    sgname = _v15_lname(g) + "-sg"
    pipe = {"application": app, "name": "Deploy to prod", "stages": [{
        "type": "deploy", "name": "Deploy (red/black)",
        "clusters": [{"account": acct, "application": app, "stack": "prod", "cloudProvider": "aws",
                      "strategy": "redblack", "availabilityZones": {r: [r + "a", r + "b"]},
                      "iamRole": prof, "keyPair": kp,
                      "instanceType": "c6i.xlarge", "targetGroups": [tg], "securityGroups": [sg1, sg2],
                      "subnetType": "internal (vpc0)"}]}]}
    text = (json.dumps(pipe, indent=2) + "\n\n"
            "clouddriver log:\n"
            f"2024-05-14 10:12:13.456  WARN 1 --- [work-1] c.n.s.c.aws.deploy.handlers.BasicAmazonDeployHandler : "
            f"Creating server group {app}-prod-v042 in {acct}:{r} failed: "
            f"com.amazonaws.services.ec2.model.AmazonEC2Exception: The security group '{sgname}' does not exist in VPC '{vpc}' "
            f"(Service: AmazonEC2; Status Code: 400; Error Code: InvalidGroup.NotFound; Request ID: {_v15_uuid(g)})\n")
    return text, [app, acct, prof, kp, tg, sg1, sg2, vpc, sgname], [
        '"strategy": "redblack"', "c6i.xlarge", '"cloudProvider": "aws"', "InvalidGroup.NotFound"]


def _v15_argocd(g: Gen):
    r, a, cl, role = g.region(), g.account(), _v15_lname(g), _v15_role(g)
    eks, repo, sha = _v15_hex(g, 32).upper(), _v15_lname(g), _v15_hex(g, 40)
    app, ns = g.pick(_MIDDLE) + "-api", g.pick(_MIDDLE)
    server = f"https://{eks}.gr7.{r}.eks.amazonaws.com"
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n"
            f"  name: {cl}-cluster\n  namespace: argocd\n  labels:\n    argocd.argoproj.io/secret-type: cluster\n"
            "type: Opaque\nstringData:\n"
            f"  name: {cl}\n  server: {server}\n  config: |\n    {{\n      \"awsAuthConfig\": {{\n"
            f"        \"clusterName\": \"{cl}\",\n        \"roleARN\": \"arn:aws:iam::{a}:role/{role}\"\n      }},\n"
            "      \"tlsClientConfig\": {\n"
            "        \"caData\": \"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcw\"\n"
            "      }\n    }\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n"
            f"  name: {app}\n  namespace: argocd\nspec:\n  project: default\n  source:\n"
            f"    repoURL: https://git-codecommit.{r}.amazonaws.com/v1/repos/{repo}\n"
            f"    targetRevision: {sha}\n    path: overlays/prod\n"
            f"  destination:\n    server: {server}\n    namespace: {ns}\n"
            "  syncPolicy:\n    automated:\n      prune: true\n")
    return text, [cl, eks, a, role, repo], ["argocd.argoproj.io/secret-type: cluster", "argoproj.io/v1alpha1", sha]


def _v15_helm_values(g: Gen):
    r, a, cl, vpc = g.region(), g.account(), _v15_lname(g), g.hexid("vpc")
    r1, r2, grp = _v15_role(g), _v15_role(g), g.pick(_MIDDLE) + "-public"
    zone, dom = "Z" + g.alnum(g.pick([13, 20]), _V15_UPPER), _v15_dom(g)
    text = ("# values-prod.yaml\naws-load-balancer-controller:\n"
            f"  clusterName: {cl}\n  region: {r}\n  vpcId: {vpc}\n"
            "  serviceAccount:\n    create: true\n    name: aws-load-balancer-controller\n    annotations:\n"
            f"      eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{r1}\n"
            f"  defaultTags:\n    CostCenter: \"{g.r.randint(1000, 9999)}\"\n"
            f"  ingressClassParams:\n    spec:\n      group:\n        name: {grp}\n"
            "external-dns:\n  provider: aws\n  policy: upsert-only\n"
            f"  txtOwnerId: {zone}\n  domainFilters:\n    - {dom}\n"
            "  serviceAccount:\n    annotations:\n"
            f"      eks.amazonaws.com/role-arn: arn:aws:iam::{a}:role/{r2}\n"
            f"  env:\n    - name: AWS_DEFAULT_REGION\n      value: {r}\n\n"
            "$ helm upgrade --install platform ./charts/platform -n kube-system -f values-prod.yaml\n"
            "Release \"platform\" has been upgraded. Happy Helming!\nNAME: platform\n"
            "LAST DEPLOYED: Tue May 14 10:12:13 2024\nNAMESPACE: kube-system\nSTATUS: deployed\nREVISION: 14\n")
    return text, [cl, vpc, a, r1, r2, grp, zone, dom], [
        "eks.amazonaws.com/role-arn", "upsert-only", "STATUS: deployed", "name: aws-load-balancer-controller"]


def _v15_kustomize(g: Gen):
    r, a, repo, q = g.region(), g.account(), _v15_lname(g), _v15_lname(g)
    b, tbl, rg, cid, role = g.bucket(), g.name("Camel"), _v15_lname(g), g.alnum(6), _v15_role(g)
    app = g.pick(_MIDDLE) + "-worker"
    ver = f"1.{g.r.randint(10, 40)}.{g.r.randint(0, 9)}"
    text = ("# overlays/prod/kustomization.yaml\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {g.pick(_MIDDLE)}\nresources:\n  - ../../base\nimages:\n"
            f"  - name: {app}\n    newName: {a}.dkr.ecr.{r}.amazonaws.com/{repo}\n    newTag: \"{ver}\"\n"
            f"configMapGenerator:\n  - name: {app}-env\n    behavior: merge\n    literals:\n"
            f"      - SQS_QUEUE_URL=https://sqs.{r}.amazonaws.com/{a}/{q}\n"
            f"      - S3_BUCKET={b}\n      - DDB_TABLE={tbl}\n"
            f"      - REDIS_HOST=master.{rg}.{cid}.{_V15_CACHE_CODE[r]}.cache.amazonaws.com\n"
            f"patches:\n  - target:\n      kind: ServiceAccount\n      name: {app}\n    patch: |-\n"
            "      - op: add\n        path: /metadata/annotations/eks.amazonaws.com~1role-arn\n"
            f"        value: arn:aws:iam::{a}:role/{role}\n")
    return text, [a, repo, q, b, tbl, rg, cid, role], [
        "kustomize.config.k8s.io/v1beta1", "eks.amazonaws.com~1role-arn", "behavior: merge", f"newTag: \"{ver}\""]


def _v15_crossplane(g: Gen):
    r, a, a2, db = g.region(), g.account(), g.account(), _v15_lname(g)
    sng, sg, kid = _v15_lname(g), g.hexid("sg"), _v15_uuid(g)
    user, xrole, req = g.pick(_MIDDLE) + "_admin", _v15_role(g), _v15_uuid(g)
    text = ("apiVersion: rds.aws.upbound.io/v1beta1\nkind: Instance\nmetadata:\n"
            f"  name: {db}\nspec:\n  forProvider:\n    region: {r}\n    engine: postgres\n"
            "    engineVersion: \"16.3\"\n    instanceClass: db.r6g.large\n    allocatedStorage: 100\n"
            f"    dbSubnetGroupName: {sng}\n    vpcSecurityGroupIds:\n      - {sg}\n"
            f"    kmsKeyId: arn:aws:kms:{r}:{a}:key/{kid}\n    username: {user}\n"
            f"    passwordSecretRef:\n      name: {db}-master\n      namespace: crossplane-system\n      key: password\n"
            f"  providerConfigRef:\n    name: workload-{g.pick(['a', 'b', 'c'])}\n---\n"
            "apiVersion: aws.upbound.io/v1beta1\nkind: ProviderConfig\nspec:\n  credentials:\n    source: IRSA\n"
            f"  assumeRoleChain:\n    - roleARN: arn:aws:iam::{a2}:role/{xrole}\n\n"
            f"$ kubectl describe instance.rds.aws.upbound.io {db} | tail -2\n"
            "  Warning  CannotCreateExternalResource  14s  managed/rds.aws.upbound.io/v1beta1, kind=instance  "
            f"async create failed: failed to create the resource: [{{0 creating RDS DB Instance ({db}): operation error RDS: "
            f"CreateDBInstance, https response error StatusCode: 400, RequestID: {req}, DBSubnetGroupNotFoundFault: "
            f"DBSubnetGroup '{sng}' not found.  []}}]\n")
    return text, [db, sng, sg, a, kid, user, a2, xrole], [
        "rds.aws.upbound.io/v1beta1", "db.r6g.large", "DBSubnetGroupNotFoundFault", req, "source: IRSA"]


def _v15_kitchen(g: Gen):
    r, a = g.region(), g.account()
    az = r + g.pick("abc")
    kp, sub, sg, prof = _v15_lname(g), g.hexid("subnet"), g.hexid("sg"), _v15_lname(g)
    b, sname = g.bucket(), _v15_lname(g) + "/chef-client"
    ssuf, iid, ip = g.alnum(6, _B64[:62]), g.iid(), _v15_ip10(g)
    cb = g.pick(_MIDDLE) + "_base"
    text = ("---\ndriver:\n  name: ec2\n"
            f"  aws_ssh_key_id: {kp}\n  region: {r}\n  availability_zone: {az}\n  subnet_id: {sub}\n"
            f"  security_group_ids: [\"{sg}\"]\n  iam_profile_name: {prof}\n  instance_type: t3.small\n"
            "  interface: private\n"
            f"transport:\n  ssh_key: ~/.ssh/{kp}.pem\n  username: ubuntu\n\n"
            "provisioner:\n  name: chef_infra\n"
            "platforms:\n  - name: ubuntu-22.04\n    driver:\n      image_search:\n"
            "        owner-id: \"099720109477\"\n        name: ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*\n\n"
            f"suites:\n  - name: default\n    run_list: [\"recipe[{cb}::default]\"]\n    attributes:\n      {cb}:\n"
            f"        artifact_bucket: {b}\n        secret_id: arn:aws:secretsmanager:{r}:{a}:secret:{sname}-{ssuf}\n\n"
            "$ kitchen create default-ubuntu-2204\n-----> Creating <default-ubuntu-2204>...\n"
            f"       Instance <{iid}> requested.\n"
            f"       EC2 instance <{iid}> created.\n"
            f"       Waited 0/300s for instance <{iid}> volumes to be ready.\n"
            f"       Waiting for SSH service on {ip}:22, retrying in 3 seconds\n"
            "       Finished creating <default-ubuntu-2204> (1m12.43s).\n")
    return text, [kp, sub, sg, prof, b, a, f"{sname}-{ssuf}", iid, ip], [
        "t3.small", "chef_infra", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
        "Finished creating <default-ubuntu-2204>"]


# logs: NLB TLS access log, CloudFront standard log, S3 server access log, RDS PostgreSQL, Lambda REPORT, X-Ray,
# an OpenTelemetry debug exporter, syslog, journald
def _v15_nlb_log(g: Gen):
    r, a, nlb, lbid = g.region(), g.account(), _v15_lname(g), _v15_hex(g, 16)
    lis, cert, dom = _v15_hex(g, 16), _v15_uuid(g), _v15_dom(g)
    ips = [_v15_ip10(g) for _ in range(2)]
    lines = []
    for k in range(3):
        t = _v15_ts(g)
        lines.append(f"tls 2.0 {t} net/{nlb}/{lbid} {lis} 198.51.100.{g.r.randint(2, 250)}:{g.r.randint(1024, 65000)} "
                     f"{ips[k % 2]}:8443 {g.r.randint(1, 900)} {g.r.randint(1, 40)} {g.r.randint(100, 9000)} "
                     f"{g.r.randint(100, 90000)} - arn:aws:acm:{r}:{a}:certificate/{cert} - "
                     f"ECDHE-RSA-AES128-GCM-SHA256 tlsv12 - api.{dom} h2 h2 \"h2\",\"http/1.1\" {t}")
    fname = (f"AWSLogs/{a}/elasticloadbalancing/{r}/2024/05/14/{a}_elasticloadbalancing_{r}_net.{nlb}.{lbid}"
             f"_20240514T1015Z_{_v15_pub(g)}_{g.alnum(8)}.log.gz")
    text = f"$ aws s3 cp s3://{g.bucket()}-nlb-logs/{fname} - | zcat | head -3\n" + "\n".join(lines) + "\n"
    return text, [a, nlb, lbid, lis, cert, dom, *ips], ["tls 2.0", "ECDHE-RSA-AES128-GCM-SHA256", "tlsv12",
                                                        '"h2","http/1.1"']


def _v15_cloudfront_log(g: Gen):
    dist, did, dom = "d" + g.alnum(13), "E" + g.alnum(13, _V15_UPPER), _v15_dom(g)
    www = f"www.{dom}"
    fields = ("date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) "
              "cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol "
              "cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type "
              "cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type "
              "sc-content-type sc-content-len sc-range-start sc-range-end")

    def line(path, status, res, detail, ctype, edge):
        rid = g.alnum(54, _B64[:62] + "_-") + "=="
        return "\t".join(["2024-05-14", f"10:{g.r.randint(10, 59)}:{g.r.randint(10, 59)}", edge,
                          str(g.r.randint(300, 90000)), f"198.51.100.{g.r.randint(2, 250)}", "GET",
                          f"{dist}.cloudfront.net", path, status, f"https://{www}/",
                          "Mozilla/5.0%20(Macintosh;%20Intel%20Mac%20OS%20X%2010_15_7)", "-", "-", res, rid, www,
                          "https", str(g.r.randint(200, 900)), "0.0" + str(g.r.randint(10, 99)), "-", "TLSv1.3",
                          "TLS_AES_128_GCM_SHA256", res, "HTTP/2.0", "-", "-", str(g.r.randint(1024, 65000)),
                          "0.0" + str(g.r.randint(10, 99)), detail, ctype, str(g.r.randint(100, 90000)), "-", "-"])
    text = (f"$ aws s3 cp s3://{g.bucket()}/cf/{did}.2024-05-14-10.{_v15_hex(g, 8)}.gz - | gunzip\n"
            f"#Version: 1.0\n#Fields: {fields}\n"
            + line(f"/assets/app.{_v15_hex(g, 8)}.js", "200", "Hit", "Hit", "application/javascript", "FRA56-P3") + "\n"
            + line("/api/cart", "502", "Error", "OriginConnectError", "text/html", "FRA56-P3") + "\n"
            + line("/", "200", "RefreshHit", "RefreshHit", "text/html", "IAD89-C1") + "\n")
    return text, [dist, did, dom], ["FRA56-P3", "TLS_AES_128_GCM_SHA256", "OriginConnectError",
                                    "#Fields: date time x-edge-location"]


def _v15_s3_access_log(g: Gen):
    r, a, b = g.region(), g.account(), g.bucket()
    owner, role, person = _v15_hex(g, 64), _v15_role(g), g.person()
    ips = [_v15_ip10(g) for _ in range(2)]

    def line(ip, op, key, method, status, err, ua):
        hid = g.alnum(76, _B64) + "="
        return (f"{owner} {b} [14/May/2024:10:{g.r.randint(10, 59)}:{g.r.randint(10, 59)} +0000] {ip} "
                f"arn:aws:sts::{a}:assumed-role/{role}/{person} {g.alnum(16, '0123456789ABCDEF')} {op} {key} "
                f"\"{method} /{key} HTTP/1.1\" {status} {err} {g.r.randint(0, 900000)} {g.r.randint(0, 900000)} "
                f"{g.r.randint(5, 200)} {g.r.randint(1, 90)} \"-\" \"{ua}\" - {hid} SigV4 "
                f"TLS_AES_128_GCM_SHA256 AuthHeader {b}.s3.{r}.amazonaws.com TLSv1.3 - -")
    text = (f"$ aws s3 cp s3://{b}-access-logs/{b}/2024-05-14-10-{g.r.randint(10, 59)}-{g.r.randint(10, 59)}-"
            f"{g.alnum(16, '0123456789ABCDEF')} -\n"
            + line(ips[0], "REST.GET.OBJECT", f"exports/2024/05/{g.pick(_MIDDLE)}.parquet", "GET", "200", "-",
                   "aws-cli/2.15.40 Python/3.11.8 Linux/6.1.84 exe/x86_64.amzn.2023") + "\n"
            + line(ips[1], "REST.PUT.OBJECT", f"incoming/{_v15_uuid(g)}.json", "PUT", "403", "AccessDenied",
                   "Boto3/1.34.101 md/Botocore#1.34.101 ua/2.0 os/linux#6.1.84 lang/python#3.12.3") + "\n")
    return text, [owner, b, a, role, person, *ips], ["REST.GET.OBJECT", "REST.PUT.OBJECT", "AuthHeader",
                                                     "aws-cli/2.15.40"]


def _v15_rds_pg_log(g: Gen):
    db, ip1, ip2 = _v15_lname(g), _v15_ip10(g), _v15_ip10(g)
    u1, u2, dbn = g.name("p_m_s"), g.pick(_MIDDLE) + "_ro", g.pick(_MIDDLE) + "_db"
    p = g.r.randint(1000, 30000)
    text = (f"$ aws rds download-db-log-file-portion --db-instance-identifier {db} "
            "--log-file-name error/postgresql.log.2024-05-14-10 --starting-token 0 --output text | grep -E 'FATAL|ERROR|duration'\n"
            f"2024-05-14 10:02:11 UTC:{ip1}({g.r.randint(30000, 60000)}):{u1}@{dbn}:[{p}]:LOG:  duration: 5321.442 ms  "
            "statement: SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1\n"
            f"2024-05-14 10:02:13 UTC:{ip2}({g.r.randint(30000, 60000)}):{u2}@{dbn}:[{p + 7}]:FATAL:  "
            f"password authentication failed for user \"{u2}\"\n"
            f"2024-05-14 10:02:13 UTC:{ip2}({g.r.randint(30000, 60000)}):{u2}@{dbn}:[{p + 7}]:DETAIL:  "
            "Connection matched pg_hba.conf line 13: \"hostssl all all 0.0.0.0/0 md5\"\n"
            f"2024-05-14 10:03:40 UTC::@:[{g.r.randint(300, 900)}]:LOG:  checkpoint complete: wrote 1834 buffers (1.4%); "
            "0 WAL file(s) added, 0 removed, 1 recycled; write=269.503 s, sync=0.004 s, total=269.539 s\n"
            f"2024-05-14 10:04:02 UTC:{ip1}({g.r.randint(30000, 60000)}):{u1}@{dbn}:[{p + 40}]:ERROR:  "
            "canceling statement due to statement timeout\n")
    return text, [db, ip1, ip2, u1, u2, dbn], ["error/postgresql.log.2024-05-14-10", "checkpoint complete",
                                               "password authentication failed", "canceling statement due to statement timeout"]


def _v15_lambda_report(g: Gen):
    r, a, fn, b = g.region(), g.account(), _v15_lname(g), g.bucket()
    role, kid, req = _v15_role(g), _v15_uuid(g), _v15_uuid(g)
    rt = f"arn:aws:lambda:{r}::runtime:{_v15_hex(g, 64)}"
    text = (f"$ aws logs tail /aws/lambda/{fn} --since 10m --format short\n"
            f"2024-05-14T10:11:01 INIT_START Runtime Version: python:3.12.v27\tRuntime Version ARN: {rt}\n"
            f"2024-05-14T10:11:02 START RequestId: {req} Version: $LATEST\n"
            f"2024-05-14T10:11:02 [INFO]\t2024-05-14T10:11:02.311Z\t{req}\tFetching s3://{b}/inbox/{_v15_uuid(g)}.eml\n"
            f"2024-05-14T10:11:05 [ERROR] ClientError: An error occurred (AccessDeniedException) when calling the Decrypt "
            f"operation: User: arn:aws:sts::{a}:assumed-role/{role}/{fn} is not authorized to perform: kms:Decrypt on "
            f"resource: arn:aws:kms:{r}:{a}:key/{kid} because no identity-based policy allows the kms:Decrypt action\n"
            f"2024-05-14T10:11:05 END RequestId: {req}\n"
            f"2024-05-14T10:11:05 REPORT RequestId: {req}\tDuration: 3012.55 ms\tBilled Duration: 3013 ms\t"
            "Memory Size: 512 MB\tMax Memory Used: 143 MB\tInit Duration: 812.40 ms\t"
            f"XRAY TraceId: 1-{_v15_hex(g, 8)}-{_v15_hex(g, 24)}\tSegmentId: {_v15_hex(g, 16)}\tSampled: true\n")
    return text, [fn, b, a, role, kid], [req, rt, "Billed Duration: 3013 ms", "Runtime Version: python:3.12.v27"]


def _v15_xray(g: Gen):
    r, a, fn, tbl, apiid = g.region(), g.account(), _v15_lname(g), g.name("Camel"), g.alnum(10)
    tid = f"1-{_v15_hex(g, 8)}-{_v15_hex(g, 24)}"
    s1, s2, s3 = _v15_hex(g, 16), _v15_hex(g, 16), _v15_hex(g, 16)
    t0 = 1715681472.0 + g.r.randint(0, 86400)
    farn = f"arn:aws:lambda:{r}:{a}:function:{fn}"
    d1 = {"id": s1, "name": f"{apiid}/prod", "start_time": t0, "trace_id": tid, "end_time": t0 + 0.412,
          "http": {"request": {"url": f"https://{apiid}.execute-api.{r}.amazonaws.com/prod/orders", "method": "GET"},
                   "response": {"status": 200}},
          "aws": {"api_gateway": {"account_id": a, "rest_api_id": apiid, "stage": "prod"}},
          "origin": "AWS::ApiGateway::Stage", "resource_arn": f"arn:aws:apigateway:{r}::/restapis/{apiid}/stages/prod"}
    d2 = {"id": s2, "name": fn, "start_time": t0 + 0.01, "trace_id": tid, "end_time": t0 + 0.4, "parent_id": s1,
          "aws": {"account_id": a, "function_arn": farn, "resource_names": [fn]}, "origin": "AWS::Lambda::Function",
          "subsegments": [{"id": s3, "name": "DynamoDB", "start_time": t0 + 0.05, "end_time": t0 + 0.39,
                           "aws": {"operation": "Query", "region": r, "request_id": g.alnum(52, _V15_UPPER),
                                   "retries": 0, "table_name": tbl, "resource_names": [tbl]}, "namespace": "aws"}]}
    out = {"Traces": [{"Id": tid, "Duration": 0.412, "LimitExceeded": False,
                       "Segments": [{"Id": s1, "Document": json.dumps(d1, separators=(",", ":"))},
                                    {"Id": s2, "Document": json.dumps(d2, separators=(",", ":"))}]}],
           "UnprocessedTraceIds": []}
    text = f"$ aws xray batch-get-traces --trace-ids {tid}\n" + json.dumps(out, indent=4) + "\n"
    return text, [a, fn, tbl, apiid], ["AWS::Lambda::Function", "AWS::ApiGateway::Stage", "UnprocessedTraceIds"]


def _v15_otel(g: Gen):
    r, a, cl = g.region(), g.account(), _v15_lname(g)
    az = r + g.pick("abc")
    task, fam, svc = _v15_hex(g, 32), g.pick(_MIDDLE) + "-" + g.pick(["api", "worker"]), _v15_lname(g)
    text = ("2024-05-14T10:12:13.456Z\tinfo\tResourceMetrics #0\n"
            "Resource SchemaURL: https://opentelemetry.io/schemas/1.6.1\nResource attributes:\n"
            "     -> cloud.provider: Str(aws)\n     -> cloud.platform: Str(aws_ecs)\n"
            f"     -> cloud.region: Str({r})\n     -> cloud.account.id: Str({a})\n"
            f"     -> cloud.availability_zone: Str({az})\n"
            f"     -> aws.ecs.cluster.arn: Str(arn:aws:ecs:{r}:{a}:cluster/{cl})\n"
            f"     -> aws.ecs.task.arn: Str(arn:aws:ecs:{r}:{a}:task/{cl}/{task})\n"
            f"     -> aws.ecs.task.family: Str({fam})\n     -> aws.ecs.task.revision: Str({g.r.randint(2, 90)})\n"
            "     -> aws.ecs.launchtype: Str(fargate)\n"
            f"     -> aws.log.group.names: Str(/ecs/{fam})\n"
            f"     -> aws.log.stream.names: Str(ecs/app/{task})\n"
            f"     -> service.name: Str({svc})\n"
            "ScopeMetrics #0\nScopeMetrics SchemaURL: \n"
            "InstrumentationScope go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp 0.49.0\n"
            "Metric #0\nDescriptor:\n     -> Name: http.server.request.duration\n"
            "     -> Description: Duration of HTTP server requests.\n     -> Unit: s\n     -> DataType: Histogram\n")
    return text, [a, cl, task, fam, svc], ["cloud.platform: Str(aws_ecs)", "http.server.request.duration",
                                           "aws.ecs.launchtype: Str(fargate)", f"cloud.availability_zone: Str({az})"]


def _v15_syslog(g: Gen):
    o = [g.r.randint(0, 254), g.r.randint(0, 254)]
    ip = f"10.{o[0]}.{o[1]}.{g.r.randint(10, 250)}"
    gw = f"10.{o[0]}.{o[1]}.1"
    h, ip2, iid, b = _v15_ipname(ip), _v15_ip10(g), g.iid(), g.bucket()
    p = g.person()
    text = (f"May 14 10:11:02 {h} dhclient[812]: DHCPACK of {ip} from {gw}\n"
            f"May 14 10:11:02 {h} dhclient[812]: bound to {ip} -- renewal in 1632 seconds.\n"
            f"May 14 10:11:40 {h} sshd[20931]: Accepted publickey for ec2-user from {ip2} port 51822 ssh2: "
            f"RSA SHA256:{g.alnum(43, _B64)}\n"
            f"May 14 10:11:40 {h} sshd[20931]: pam_unix(sshd:session): session opened for user ec2-user(uid=1000) by (uid=0)\n"
            f"May 14 10:12:05 {h} amazon-ssm-agent[1290]: 2024-05-14 10:12:05 INFO [ssm-session-worker] "
            f"[{p}-{_v15_hex(g, 17)}] Session worker started for instance {iid}\n"
            f"May 14 10:13:01 {h} CRON[21044]: (root) CMD (/usr/local/bin/backup.sh s3://{b}/nightly/ >/dev/null 2>&1)\n"
            f"May 14 10:13:09 {h} systemd[1]: Started amazon-cloudwatch-agent.service - Amazon CloudWatch Agent.\n")
    return text, [h, ip, gw, ip2, iid, b], ["Accepted publickey for ec2-user", "amazon-cloudwatch-agent.service",
                                            "pam_unix(sshd:session)"]


def _v15_journald(g: Gen):
    r, a, b, role, iid, q = g.region(), g.account(), g.bucket(), _v15_role(g), g.iid(), _v15_lname(g)
    ip = _v15_ip10(g)
    host = _v15_pdns(ip, r)
    unit = g.pick(["ingest-uploader", "batch-shipper", "edge-sync"])
    t = g.r.randint(1715600000, 1715700000) * 1000000
    n = g.r.randint(1000, 9999)

    def rec(k, u, m):
        return json.dumps({"t": str(t + k * 1312345), "h": host, "u": u, "m": m}, separators=(",", ":"))
    text = (f"$ journalctl -u {unit}.service -o json --since \"10 min ago\" | jq -c "
            "'{t:.__REALTIME_TIMESTAMP,h:._HOSTNAME,u:._SYSTEMD_UNIT,m:.MESSAGE}'\n"
            + rec(0, f"{unit}.service", f"uploading batch {n} to s3://{b}/incoming/2024/05/14/ (412 records)") + "\n"
            + rec(1, f"{unit}.service", "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling "
                  f"the PutObject operation: User: arn:aws:sts::{a}:assumed-role/{role}/{iid} is not authorized to "
                  f"perform: s3:PutObject on resource: \"arn:aws:s3:::{b}/incoming/2024/05/14/batch-{n}.json.gz\" "
                  "with an explicit deny in a service control policy") + "\n"
            + rec(2, f"{unit}.service", f"falling back to queue https://sqs.{r}.amazonaws.com/{a}/{q}") + "\n"
            + rec(3, "init.scope", f"{unit}.service: Main process exited, code=exited, status=1/FAILURE") + "\n")
    return text, [_v15_ipname(ip), b, a, role, iid, q], [
        "status=1/FAILURE", "with an explicit deny in a service control policy", "__REALTIME_TIMESTAMP"]


# code: boto3, TypeScript SDK v3, Go SDK v2, Java SDK v2 / KCL, .NET, Ruby on Rails, Laravel .env, Kotlin SDK, a deploy
# script, AWS Tools for PowerShell, Athena / Redshift SQL
def _v15_boto3_partner(g: Gen):
    r, a, a2, role = g.region(), g.account(), g.account(), _v15_role(g)
    ext, q, topic = g.alnum(32, _B64[:62]), _v15_lname(g), _v15_lname(g)
    text = ("import boto3\n\n"
            f"ROLE_ARN = \"arn:aws:iam::{a}:role/{role}\"\nEXTERNAL_ID = \"{ext}\"\n"
            f"QUEUE_URL = \"https://sqs.{r}.amazonaws.com/{a2}/{q}.fifo\"\n"
            f"TOPIC_ARN = \"arn:aws:sns:{r}:{a2}:{topic}.fifo\"\n\n\n"
            "def partner_session() -> boto3.Session:\n    creds = boto3.client(\"sts\").assume_role(\n"
            "        RoleArn=ROLE_ARN, RoleSessionName=\"relay\", ExternalId=EXTERNAL_ID, DurationSeconds=3600,\n"
            "    )[\"Credentials\"]\n    return boto3.Session(\n"
            "        aws_access_key_id=creds[\"AccessKeyId\"],\n        aws_secret_access_key=creds[\"SecretAccessKey\"],\n"
            f"        aws_session_token=creds[\"SessionToken\"],\n        region_name=\"{r}\",\n    )\n\n\n"
            "def drain(batch: int = 10) -> None:\n    s = partner_session()\n"
            "    sqs, sns = s.client(\"sqs\"), s.client(\"sns\")\n"
            "    while msgs := sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=batch, WaitTimeSeconds=20).get(\"Messages\", []):\n"
            "        for m in msgs:\n"
            "            sns.publish(TopicArn=TOPIC_ARN, Message=m[\"Body\"], MessageGroupId=\"orders\")\n"
            "            sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=m[\"ReceiptHandle\"])\n")
    return text, [a, role, ext, a2, q, topic], ["MaxNumberOfMessages", "aws_session_token", "WaitTimeSeconds=20"]


def _v15_ts_sdk(g: Gen):
    r, a, tbl = g.region(), g.account(), g.name("Camel")
    sname, suf = _v15_lname(g) + "/partner-api", g.alnum(6, _B64[:62])
    text = ("import { DynamoDBClient } from \"@aws-sdk/client-dynamodb\";\n"
            "import { DynamoDBDocumentClient, QueryCommand } from \"@aws-sdk/lib-dynamodb\";\n"
            "import { SecretsManagerClient, GetSecretValueCommand } from \"@aws-sdk/client-secrets-manager\";\n\n"
            f"const REGION = process.env.AWS_REGION ?? \"{r}\";\n"
            f"const TABLE = \"{tbl}\";\n"
            f"const SECRET_ARN = \"arn:aws:secretsmanager:{r}:{a}:secret:{sname}-{suf}\";\n\n"
            "const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION }));\n"
            "const sm = new SecretsManagerClient({ region: REGION });\n\n"
            "export async function ordersFor(customerId: string) {\n"
            "  const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: SECRET_ARN }));\n"
            "  const { apiKey } = JSON.parse(SecretString!);\n"
            "  const out = await ddb.send(new QueryCommand({\n    TableName: TABLE,\n    IndexName: \"customerId-index\",\n"
            "    KeyConditionExpression: \"customerId = :c\",\n    ExpressionAttributeValues: { \":c\": customerId },\n  }));\n"
            "  return { items: out.Items ?? [], apiKey };\n}\n\n"
            "// ResourceNotFoundException: Requested resource not found\n"
            "//     at throwDefaultError (node_modules/@smithy/smithy-client/dist-cjs/index.js:838:20)\n")
    return text, [tbl, a, f"{sname}-{suf}"], ["@aws-sdk/client-secrets-manager", "GetSecretValueCommand",
                                              "KeyConditionExpression"]


def _v15_go_sdk(g: Gen):
    r, a, b, kid = g.region(), g.account(), g.bucket(), _v15_uuid(g)
    k, sig = g.akid(), _v15_hex(g, 64)
    text = ("package upload\n\nimport (\n\t\"context\"\n\t\"io\"\n\t\"time\"\n\n"
            "\t\"github.com/aws/aws-sdk-go-v2/aws\"\n\t\"github.com/aws/aws-sdk-go-v2/config\"\n"
            "\t\"github.com/aws/aws-sdk-go-v2/service/s3\"\n\t\"github.com/aws/aws-sdk-go-v2/service/s3/types\"\n)\n\n"
            f"const (\n\tbucket   = \"{b}\"\n\tkmsKeyID = \"arn:aws:kms:{r}:{a}:key/{kid}\"\n)\n\n"
            "func PutAndPresign(ctx context.Context, key string, body io.Reader) (string, error) {\n"
            f"\tcfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(\"{r}\"))\n"
            "\tif err != nil {\n\t\treturn \"\", err\n\t}\n\tclient := s3.NewFromConfig(cfg)\n"
            "\tif _, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body,\n"
            "\t\tServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(kmsKeyID)}); err != nil {\n"
            "\t\treturn \"\", err\n\t}\n"
            "\treq, err := s3.NewPresignClient(client).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket),\n"
            "\t\tKey: aws.String(key)}, s3.WithPresignExpires(15*time.Minute))\n"
            "\tif err != nil {\n\t\treturn \"\", err\n\t}\n\treturn req.URL, nil\n}\n\n"
            "// $ go run ./cmd/presign reports/q2.csv\n"
            f"// https://{b}.s3.{r}.amazonaws.com/reports/q2.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential={k}%2F20240514%2F{r}%2Fs3%2Faws4_request&X-Amz-Date=20240514T101213Z"
            f"&X-Amz-Expires=900&X-Amz-SignedHeaders=host&x-id=GetObject&X-Amz-Signature={sig}\n")
    return text, [b, a, kid, k, sig], ["github.com/aws/aws-sdk-go-v2/config", "types.ServerSideEncryptionAwsKms",
                                       "X-Amz-Algorithm=AWS4-HMAC-SHA256"]


def _v15_java_kcl(g: Gen):
    r, a, stream, cons = g.region(), g.account(), _v15_lname(g), _v15_lname(g) + "-efo"
    app, req = g.name("Camel") + "Consumer", _v15_uuid(g)
    ts = g.r.randint(1700000000, 1716000000)
    text = (f"package com.{g.pick(_PREFIX)}.ingest;\n\n"
            "import software.amazon.awssdk.regions.Region;\n"
            "import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;\n"
            "import software.amazon.kinesis.common.ConfigsBuilder;\nimport software.amazon.kinesis.common.StreamIdentifier;\n\n"
            "public final class StreamConsumer {\n"
            f"    private static final String STREAM_ARN = \"arn:aws:kinesis:{r}:{a}:stream/{stream}\";\n"
            f"    private static final String CONSUMER_ARN = STREAM_ARN + \"/consumer/{cons}:{ts}\";\n"
            f"    private static final String APP_NAME = \"{app}\"; // also the KCL lease table in DynamoDB\n\n"
            "    public static void main(String[] args) {\n"
            f"        Region region = Region.of(\"{r}\");\n"
            "        KinesisAsyncClient kinesis = KinesisAsyncClient.builder().region(region).build();\n"
            "        ConfigsBuilder configs = new ConfigsBuilder(StreamIdentifier.multiStreamInstance(STREAM_ARN + \":\" + CREATED),\n"
            "                APP_NAME, kinesis, dynamo, cloudWatch, workerId(), RecordProcessor::new);\n"
            "        new Scheduler(configs.checkpointConfig(), configs.coordinatorConfig(), /* ... */).run();\n    }\n}\n\n"
            "Exception in thread \"main\" java.util.concurrent.CompletionException: "
            f"software.amazon.awssdk.services.kinesis.model.ResourceInUseException: Consumer {cons} under stream {stream} "
            f"is in CREATING state (Service: Kinesis, Status Code: 400, Request ID: {req})\n"
            "\tat java.base/java.util.concurrent.CompletableFuture.encodeRelay(CompletableFuture.java:368)\n")
    return text, [a, stream, cons, app], ["software.amazon.awssdk.services.kinesis.KinesisAsyncClient",
                                          "ResourceInUseException", req, "Status Code: 400"]


def _v15_dotnet(g: Gen):
    r, a, q = g.region(), g.account(), _v15_lname(g)
    pool, client, csec = f"{r}_{g.alnum(9, _B64[:62])}", g.alnum(26), g.alnum(52)
    text = ("// appsettings.Production.json\n{\n"
            f"  \"AWS\": {{ \"Profile\": \"default\", \"Region\": \"{r}\" }},\n"
            f"  \"Queues\": {{ \"Orders\": \"https://sqs.{r}.amazonaws.com/{a}/{q}\" }},\n"
            f"  \"Cognito\": {{\n    \"UserPoolId\": \"{pool}\",\n    \"ClientId\": \"{client}\",\n"
            f"    \"ClientSecret\": \"{csec}\"\n  }}\n}}\n\n"
            "// OrdersWorker.cs\nusing Amazon.SQS;\nusing Amazon.SQS.Model;\n\n"
            "public class OrdersWorker(IAmazonSQS sqs, IConfiguration cfg, ILogger<OrdersWorker> log) : BackgroundService\n{\n"
            "    protected override async Task ExecuteAsync(CancellationToken ct)\n    {\n"
            "        var url = cfg[\"Queues:Orders\"];\n"
            "        var resp = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest { QueueUrl = url, MaxNumberOfMessages = 10, WaitTimeSeconds = 20 }, ct);\n"
            "        log.LogInformation(\"Got {Count} messages from {Url}\", resp.Messages.Count, url);\n    }\n}\n\n"
            "fail: Microsoft.Extensions.Hosting.Internal.Host[9]\n"
            f"      Amazon.SQS.AmazonSQSException: Access to the resource https://sqs.{r}.amazonaws.com/{a}/{q} is denied.\n")
    return text, [a, q, pool, client, csec], ["Amazon.SQS.AmazonSQSException", "ReceiveMessageAsync", "Queues:Orders"]


def _v15_rails(g: Gen):
    r, a, b, b2 = g.region(), g.account(), g.bucket(), g.bucket()
    k, s, alias, user, kid = g.akid(), g.secret(), _v15_lname(g), g.name("pms") + "-ci", _v15_uuid(g)
    text = ("# config/storage.yml\namazon:\n  service: S3\n"
            "  access_key_id: <%= ENV[\"AWS_ACCESS_KEY_ID\"] %>\n  secret_access_key: <%= ENV[\"AWS_SECRET_ACCESS_KEY\"] %>\n"
            f"  region: {r}\n  bucket: {b}\n\n"
            f"# .env.production (committed by mistake in 4f1c2e0)\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\n\n"
            "# lib/tasks/export.rake\nrequire \"aws-sdk-s3\"\n\ntask export: :environment do\n"
            f"  s3 = Aws::S3::Client.new(region: \"{r}\")\n"
            f"  s3.put_object(bucket: \"{b2}\", key: \"exports/#{{Date.today}}.csv\", body: Report.to_csv,\n"
            f"                server_side_encryption: \"aws:kms\", ssekms_key_id: \"alias/{alias}\")\nend\n\n"
            "$ bin/rails export\nrails aborted!\n"
            f"Aws::S3::Errors::AccessDenied: User: arn:aws:iam::{a}:user/{user} is not authorized to perform: "
            f"kms:GenerateDataKey on resource: arn:aws:kms:{r}:{a}:key/{kid} because no identity-based policy allows "
            "the kms:GenerateDataKey action\n/app/lib/tasks/export.rake:5:in `block in <main>'\n")
    return text, [b, k, s, b2, alias, a, user, kid], ["Aws::S3::Errors::AccessDenied", "require \"aws-sdk-s3\"",
                                                      "kms:GenerateDataKey"]


def _v15_laravel_env(g: Gen):
    r, a, dom = g.region(), g.account(), _v15_dom(g)
    cl, cid, dbn, dbu, pw = _v15_lname(g), g.alnum(12), g.pick(_MIDDLE), g.pick(_MIDDLE) + "_app", _v15_pw(g, 24)
    q, k, s, b, cf = _v15_lname(g), g.akid(), g.secret(), g.bucket(), "d" + g.alnum(13)
    text = (f"APP_NAME=\"{g.pick(_PREFIX).capitalize()} Shop\"\nAPP_ENV=production\nAPP_DEBUG=false\nAPP_URL=https://shop.{dom}\n\n"
            f"DB_CONNECTION=mysql\nDB_HOST={cl}.cluster-{cid}.{r}.rds.amazonaws.com\nDB_PORT=3306\n"
            f"DB_DATABASE={dbn}\nDB_USERNAME={dbu}\nDB_PASSWORD={pw}\n\n"
            f"QUEUE_CONNECTION=sqs\nSQS_PREFIX=https://sqs.{r}.amazonaws.com/{a}\nSQS_QUEUE={q}\n\n"
            f"FILESYSTEM_DISK=s3\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_DEFAULT_REGION={r}\n"
            f"AWS_BUCKET={b}\nAWS_URL=https://{cf}.cloudfront.net\nAWS_USE_PATH_STYLE_ENDPOINT=false\n\n"
            f"MAIL_MAILER=ses\nMAIL_FROM_ADDRESS=\"no-reply@{dom}\"\n")
    return text, [dom, cl, cid, dbu, pw, a, q, k, s, b, cf], [
        "QUEUE_CONNECTION=sqs", "FILESYSTEM_DISK=s3", "MAIL_MAILER=ses", "AWS_USE_PATH_STYLE_ENDPOINT=false"]


def _v15_kotlin(g: Gen):
    r, a, bus, dom = g.region(), g.account(), _v15_lname(g) + "-bus", _v15_dom(g)
    cs = _v15_lname(g) + "-transactional"
    text = ("import aws.sdk.kotlin.services.eventbridge.EventBridgeClient\n"
            "import aws.sdk.kotlin.services.eventbridge.model.PutEventsRequest\n"
            "import aws.sdk.kotlin.services.eventbridge.model.PutEventsRequestEntry\n\n"
            f"private const val BUS_ARN = \"arn:aws:events:{r}:{a}:event-bus/{bus}\"\n"
            f"private const val FROM = \"billing@{dom}\"\nprivate const val CONFIG_SET = \"{cs}\"\n\n"
            "suspend fun publishInvoice(id: String, total: Long) {\n"
            f"    EventBridgeClient {{ region = \"{r}\" }}.use {{ eb ->\n"
            "        val resp = eb.putEvents(PutEventsRequest {\n            entries = listOf(PutEventsRequestEntry {\n"
            "                eventBusName = BUS_ARN\n                source = \"billing.invoices\"\n"
            "                detailType = \"InvoiceIssued\"\n"
            "                detail = \"\"\"{\"invoiceId\":\"$id\",\"total\":$total}\"\"\"\n            })\n        })\n"
            "        check(resp.failedEntryCount == 0) { \"PutEvents failed: ${resp.entries}\" }\n    }\n}\n\n"
            "Exception in thread \"main\" java.lang.IllegalStateException: PutEvents failed: [PutEventsResultEntry("
            "errorCode=NotAuthorizedForSourceException, errorMessage=Not authorized for the source., eventId=null)]\n")
    return text, [a, bus, dom, cs], ["aws.sdk.kotlin.services.eventbridge.EventBridgeClient",
                                     "NotAuthorizedForSourceException", "failedEntryCount"]


def _v15_deploy_sh(g: Gen):
    r, a, repo, cl = g.region(), g.account(), _v15_lname(g), _v15_lname(g)
    svc, b, did = _v15_lname(g), g.bucket(), "E" + g.alnum(13, _V15_UPPER)
    inv = "I" + g.alnum(25, _V15_UPPER)
    text = ("#!/usr/bin/env bash\nset -euo pipefail\n"
            f"ACCOUNT={a}\nREGION={r}\nREPO=\"$ACCOUNT.dkr.ecr.$REGION.amazonaws.com/{repo}\"\n"
            f"CLUSTER={cl}\nSERVICE={svc}\nSITE_BUCKET={b}\nDIST_ID={did}\n\n"
            "aws ecr get-login-password --region \"$REGION\" | docker login --username AWS --password-stdin \"$ACCOUNT.dkr.ecr.$REGION.amazonaws.com\"\n"
            "docker build -t \"$REPO:$GIT_SHA\" . && docker push \"$REPO:$GIT_SHA\"\n"
            "aws ecs update-service --cluster \"$CLUSTER\" --service \"$SERVICE\" --force-new-deployment --query 'service.deployments[0].id' --output text\n"
            "aws s3 sync ./web/dist \"s3://$SITE_BUCKET/\" --delete --cache-control max-age=31536000\n"
            "aws cloudfront create-invalidation --distribution-id \"$DIST_ID\" --paths '/index.html' '/config.json'\n\n"
            "# CI log (bash -x)\n"
            f"+ aws ecs update-service --cluster {cl} --service {svc} --force-new-deployment --query 'service.deployments[0].id' --output text\n"
            f"ecs-svc/{g.r.randint(10 ** 18, 10 ** 19 - 1)}\n"
            f"+ aws s3 sync ./web/dist s3://{b}/ --delete --cache-control max-age=31536000\n"
            f"upload: web/dist/index.html to s3://{b}/index.html\n"
            f"+ aws cloudfront create-invalidation --distribution-id {did} --paths /index.html /config.json\n"
            f"{{\n    \"Location\": \"https://cloudfront.amazonaws.com/2020-05-31/distribution/{did}/invalidation/{inv}\",\n"
            f"    \"Invalidation\": {{\n        \"Id\": \"{inv}\",\n        \"Status\": \"InProgress\"\n    }}\n}}\n")
    return text, [a, repo, cl, svc, b, did], ["get-login-password", "--force-new-deployment", "--password-stdin",
                                              '"Status": "InProgress"']


def _v15_powershell(g: Gen):
    r, k, s = g.region(), g.akid(), g.secret()
    tag, i1, i2, ip1, ip2 = g.name("pms"), g.iid(), g.iid(), _v15_ip10(g), _v15_ip10(g)
    b, host, kid = g.bucket(), "SQL-" + g.pick(_PREFIX).upper() + "-0" + str(g.r.randint(1, 9)), _v15_uuid(g)
    text = (f"PS C:\\> Set-AWSCredential -AccessKey {k} -SecretKey {s} -StoreAs dba\n"
            f"PS C:\\> Set-DefaultAWSRegion -Region {r}\n"
            f"PS C:\\> (Get-EC2Instance -ProfileName dba -Filter @{{Name=\"tag:Name\";Values=\"{tag}*\"}}).Instances | "
            "Select-Object InstanceId, InstanceType, PrivateIpAddress, @{n='State';e={$_.State.Name}}\n\n"
            f"{'InstanceId':<20}{'InstanceType':<13}{'PrivateIpAddress':<17}State\n"
            f"{'----------':<20}{'------------':<13}{'----------------':<17}-----\n"
            f"{i1:<20}{'m5.xlarge':<13}{ip1:<17}running\n{i2:<20}{'m5.xlarge':<13}{ip2:<17}stopped\n\n"
            f"PS C:\\> Write-S3Object -BucketName {b} -Key \"backups/{host}/full.bak\" -File D:\\Backups\\full.bak "
            f"-ServerSideEncryption aws:kms -ServerSideEncryptionKeyManagementServiceKeyId {kid} -ProfileName dba\n"
            "Write-S3Object : Access Denied\nAt line:1 char:1\n"
            f"+ Write-S3Object -BucketName {b} -Key \"backups/{host}/full.bak\" ...\n"
            "    + CategoryInfo          : InvalidOperation: (Amazon.PowerShe...eS3ObjectCmdlet:WriteS3ObjectCmdlet) "
            "[Write-S3Object], InvalidOperationException\n"
            "    + FullyQualifiedErrorId : Amazon.S3.AmazonS3Exception,Amazon.PowerShell.Cmdlets.S3.WriteS3ObjectCmdlet\n")
    return text, [k, s, tag, i1, i2, ip1, ip2, b, host, kid], ["Set-DefaultAWSRegion", "Amazon.S3.AmazonS3Exception",
                                                                "m5.xlarge"]


def _v15_sql(g: Gen):
    r, a, wg, resb = g.region(), g.account(), _v15_lname(g), g.bucket()
    gdb, logb, b, b2 = g.name("p_m_s"), g.bucket(), g.bucket(), g.bucket()
    role, kid = _v15_role(g), _v15_uuid(g)
    loc = f"s3://{logb}/AWSLogs/{a}/elasticloadbalancing/{r}/"
    text = (f"-- Athena, workgroup {wg} (results in s3://{resb}/athena/)\n"
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {gdb}.alb_logs (\n"
            "  type string, time string, elb string, client_ip string, client_port int, target_ip string,\n"
            "  request_verb string, request_url string, user_agent string, target_group_arn string, trace_id string\n)\n"
            "PARTITIONED BY (day string)\nROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\n"
            "WITH SERDEPROPERTIES ('serialization.format' = '1', 'input.regex' = '([^ ]*) ([^ ]*) ([^ ]*) ...')\n"
            f"LOCATION '{loc}'\n"
            "TBLPROPERTIES ('projection.enabled' = 'true', 'projection.day.type' = 'date',\n"
            "  'projection.day.range' = '2024/01/01,NOW', 'projection.day.format' = 'yyyy/MM/dd',\n"
            f"  'storage.location.template' = '{loc}${{day}}');\n\n"
            "-- Redshift\nCOPY analytics.orders\n"
            f"FROM 's3://{b}/exports/orders/2024-05-14/'\nIAM_ROLE 'arn:aws:iam::{a}:role/{role}'\nFORMAT AS PARQUET;\n\n"
            "UNLOAD ('SELECT * FROM analytics.orders WHERE order_date = ''2024-05-14''')\n"
            f"TO 's3://{b2}/unload/orders_'\nIAM_ROLE 'arn:aws:iam::{a}:role/{role}'\n"
            f"KMS_KEY_ID '{kid}' ENCRYPTED\nFORMAT AS PARQUET;\n")
    return text, [wg, resb, gdb, logb, a, b, b2, role, kid], [
        "org.apache.hadoop.hive.serde2.RegexSerDe", "FORMAT AS PARQUET", "'projection.enabled' = 'true'"]


# human text: a Chinese ticket, a Portuguese PR description, a Korean Slack thread, an English postmortem
def _v15_zh_ticket(g: Gen):
    r, a1, a2, b = g.region(), g.account(), g.account(), g.bucket()
    emr, role, kid = "j-" + g.alnum(13, _V15_UPPER), _v15_role(g), _v15_uuid(g)
    alias, vpce = _v15_lname(g), g.hexid("vpce")
    p1, p2 = g.r.sample(_PEOPLE, 2)
    text = ("【故障单】跨账号读取 S3 报 AccessDenied\n"
            f"提交人：{p1}　优先级：P2　所属系统：数据平台　区域：{r}\n\n"
            "现象：\n"
            f"生产账号 {a1} 的 EMR 集群 {emr} 读取数仓账号 {a2} 的存储桶 {b} 时报错：\n\n"
            "  com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status Code: 403; "
            f"Error Code: AccessDenied; Request ID: {g.alnum(16, '0123456789ABCDEF')}; "
            f"S3 Extended Request ID: {g.alnum(76, _B64)}=; Proxy: null)\n\n"
            "已排查：\n"
            f"1. 桶策略已授权角色 arn:aws:iam::{a1}:role/{role}；\n"
            f"2. 对象使用 KMS 密钥 {kid}（别名 alias/{alias}）加密，密钥策略里没有上述角色；\n"
            f"3. VPC 终端节点 {vpce} 的策略允许 s3:GetObject。\n\n"
            f"下一步：在 {a2} 中给密钥 {kid} 的密钥策略加上 kms:Decrypt，由 {p2} 负责，今天 18:00 前完成。\n")
    return text, [a1, a2, b, emr, role, kid, alias, vpce], ["AmazonS3Exception", "Status Code: 403", "kms:Decrypt"]


def _v15_pt_pr(g: Gen):
    r, a, cl, cid = g.region(), g.account(), _v15_lname(g), g.alnum(12)
    u, suf, old = _v15_uuid(g), g.alnum(6, _B64[:62]), _v15_lname(g)
    b, exp, sg = g.bucket(), _v15_lname(g) + "-export", g.hexid("sg")
    cidr = f"10.{g.r.randint(0, 254)}.{g.r.randint(0, 254)}.0/24"
    dbn, user = g.pick(_MIDDLE), g.pick(_MIDDLE) + "_app"
    w = f"{cl}.cluster-{cid}.{r}.rds.amazonaws.com"
    text = ("## Migração do banco de pedidos para Aurora PostgreSQL Serverless v2\n\n### O que muda\n"
            f"- Novo cluster `{cl}` (engine `aurora-postgresql` 15.4, classe `db.serverless`, 0.5–16 ACUs) na conta `{a}`, região `{r}`.\n"
            f"- Endpoint de escrita: `{w}`; leitura: `{cl}.cluster-ro-{cid}.{r}.rds.amazonaws.com`.\n"
            f"- A senha master fica no Secrets Manager (`arn:aws:secretsmanager:{r}:{a}:secret:rds!cluster-{u}-{suf}`), gerenciada pelo RDS.\n"
            f"- Snapshot final do RDS antigo `{old}` exportado para o bucket `{b}` (tarefa `{exp}`).\n"
            f"- O security group `{sg}` passa a aceitar 5432 apenas da subnet privada {cidr}.\n\n"
            "### Como testar\n```bash\n"
            f"psql \"host={w} dbname={dbn} user={user} sslmode=verify-full sslrootcert=global-bundle.pem\"\n```\n\n"
            "### Checklist\n- [x] `terraform plan` sem destroy\n- [ ] Janela de manutenção combinada com o time de pagamentos\n")
    return text, [cl, cid, a, u, old, b, exp, sg, cidr, user], ["aurora-postgresql", "db.serverless", "sslmode=verify-full"]


def _v15_ko_slack(g: Gen):
    a, rg, cid, fn = g.account(), _v15_lname(g), g.alnum(6), _v15_lname(g)
    alarm = f"{rg}-cpu-high"
    p1, p2, p3 = g.r.sample(_PEOPLE, 3)
    text = ("#인프라-알림\n"
            f"AWS Chatbot  오전 9:12\n:rotating_light: ALARM: \"{alarm}\" in Asia Pacific (Seoul)\n"
            "EngineCPUUtilization > 90 for 3 datapoints within 3 minutes\n\n"
            f"{p1}  오전 9:14\n방금 알람 왔어요. 엔드포인트는 master.{rg}.{cid}.apn2.cache.amazonaws.com:6379 입니다.\n"
            f"{p2}  오전 9:16\n`aws elasticache describe-replication-groups --replication-group-id {rg} --region ap-northeast-2` "
            f"보니까 노드 3개 중 {rg}-002 가 failover 중이에요. 계정은 {a} 맞죠?\n"
            f"{p1}  오전 9:17\n네 맞아요. 배치 Lambda {fn} 가 KEYS * 를 돌린 것 같아요. 로그 그룹 /aws/lambda/{fn} 에서 확인했습니다.\n"
            f"{p3}  오전 9:20\n일단 동시성을 0 으로 내렸습니다:\n"
            f"`aws lambda put-function-concurrency --function-name {fn} --reserved-concurrent-executions 0`\n")
    return text, [alarm, rg, cid, a, fn], ["Asia Pacific (Seoul)", "--reserved-concurrent-executions 0", "KEYS *",
                                           "EngineCPUUtilization"]


def _v15_en_postmortem(g: Gen):
    r, a, alb, albid = g.region(), g.account(), _v15_lname(g), _v15_hex(g, 16)
    tg, asg, lt, dom = _v15_lname(g) + "-tg", _v15_lname(g) + "-asg", g.hexid("lt"), _v15_dom(g)
    svc, alarm, iid, ip, b = g.name("ms"), _v15_lname(g) + "-5xx", g.iid(), _v15_ip10(g), g.bucket()
    p1, p2 = g.r.sample(_PEOPLE, 2)
    text = (f"# Postmortem: checkout 5xx spike, 2024-05-{g.r.randint(10, 28)}\n\n"
            f"**Severity:** SEV-2 · **Duration:** 47 min · **Author:** {p1}\n\n## Summary\n"
            f"At 14:02 UTC the ALB `{alb}` (arn:aws:elasticloadbalancing:{r}:{a}:loadbalancer/app/{alb}/{albid}) started "
            f"returning 502s for checkout.{dom}. Target group `{tg}` had 0 healthy targets after `{asg}` replaced every "
            f"instance during an instance refresh to launch template `{lt}` v42, whose user data reads the SSM parameter "
            f"`/prod/{svc}/db_url`, which had been deleted the day before.\n\n"
            "## Timeline (UTC)\n| Time | Event |\n|---|---|\n"
            f"| 13:58 | Instance refresh {_v15_uuid(g)} starts on `{asg}` (MinHealthyPercentage 90) |\n"
            f"| 14:02 | HealthyHostCount on `{tg}` drops to 0; `{alarm}` pages on-call |\n"
            f"| 14:19 | {p2} finds `ParameterNotFound` in /var/log/cloud-init-output.log on {iid} ({ip}) |\n"
            f"| 14:41 | Parameter restored from the backup in s3://{b}/ssm/; refresh cancelled and rolled back |\n"
            "| 14:49 | Error rate back to baseline |\n\n"
            "## Action items\n- [ ] Preflight `aws ssm get-parameter` in the launch template before the app starts\n"
            "- [ ] Alarm on SSM parameter deletion via EventBridge (DeleteParameter in CloudTrail)\n")
    return text, [alb, a, albid, tg, asg, lt, dom, svc, alarm, iid, ip, b], [
        "ParameterNotFound", "HealthyHostCount", "MinHealthyPercentage", "SEV-2"]


VARIANTS_15: list[Template] = [
    # services as CLI / JSON output: App Runner, Lightsail table, MemoryDB with redis-cli, DocumentDB with mongosh,
    # Neptune bulk loader and gremlin, MSK brokers and client.properties, Amazon MQ, OpenSearch Serverless (#0-#7)
    _v15_apprunner, _v15_lightsail, _v15_memorydb, _v15_docdb, _v15_neptune, _v15_msk, _v15_amazonmq, _v15_aoss,
    # QuickSight data source and users, DataBrew job run, EMR Serverless, SageMaker endpoint error and config,
    # SageMaker notebook, Bedrock agent and knowledge base, IoT Core certificate and thing, Cognito Amplify config
    # (#8-#15)
    _v15_quicksight, _v15_databrew, _v15_emr_serverless, _v15_sagemaker_endpoint, _v15_sagemaker_notebook,
    _v15_bedrock, _v15_iot, _v15_cognito,
    # Global Accelerator, Route 53 Resolver (Italian runbook), Network Firewall alert log, CloudHSM, Control Tower
    # (Linear ticket), IAM Identity Center config and sso-admin, Direct Connect (Japanese Slack), Directory Service
    # (Spanish Jira), WorkSpaces (German email) (#16-#24)
    _v15_global_accelerator, _v15_resolver_it, _v15_network_firewall, _v15_cloudhsm, _v15_control_tower,
    _v15_identity_center, _v15_dx_ja, _v15_ds_es, _v15_workspaces_de,
    # tools: Ansible aws_ec2 inventory, Pulumi outputs and URNs, CDK diff, Serverless Framework, SAM, Salt Cloud,
    # Packer, Vault AWS engine (#25-#32)
    _v15_ansible_inventory, _v15_pulumi, _v15_cdk_diff, _v15_serverless, _v15_sam, _v15_salt_cloud, _v15_packer,
    _v15_vault,
    # Consul / Nomad, Spinnaker pipeline and clouddriver log, Argo CD cluster secret, Helm values, Kustomize,
    # Crossplane, Test Kitchen (#33-#39)
    _v15_consul_nomad, _v15_spinnaker, _v15_argocd, _v15_helm_values, _v15_kustomize, _v15_crossplane, _v15_kitchen,
    # logs: NLB TLS, CloudFront, S3 server access, RDS PostgreSQL, Lambda REPORT, X-Ray batch-get-traces, OTel debug
    # exporter, syslog, journald JSON (#40-#48)
    _v15_nlb_log, _v15_cloudfront_log, _v15_s3_access_log, _v15_rds_pg_log, _v15_lambda_report, _v15_xray, _v15_otel,
    _v15_syslog, _v15_journald,
    # code: boto3, TypeScript v3, Go v2 with a presigned URL, Java KCL, .NET, Rails, Laravel .env, Kotlin, a deploy
    # script, PowerShell, Athena / Redshift SQL (#49-#59)
    _v15_boto3_partner, _v15_ts_sdk, _v15_go_sdk, _v15_java_kcl, _v15_dotnet, _v15_rails, _v15_laravel_env,
    _v15_kotlin, _v15_deploy_sh, _v15_powershell, _v15_sql,
    # human text: Chinese ticket, Portuguese PR, Korean Slack, English postmortem (#60-#63)
    _v15_zh_ticket, _v15_pt_pr, _v15_ko_slack, _v15_en_postmortem,
]


HELD_OUT: dict[str, list[Template]] = {"variants-1": VARIANTS, "variants-2": VARIANTS_2, "variants-3": VARIANTS_3,
                                       "variants-4": VARIANTS_4, "variants-5": VARIANTS_5,
                                       "variants-6": VARIANTS_6, "variants-7": VARIANTS_7,
                                       "variants-8": VARIANTS_8, "variants-9": VARIANTS_9,
                                       "variants-10": VARIANTS_10, "variants-11": VARIANTS_11,
                                       "variants-12": VARIANTS_12,
                                       "variants-13": VARIANTS_13, "variants-14": VARIANTS_14,
                                       "variants-15": VARIANTS_15}


def generate(seed: int = 13, per_template: int = 3, classes: dict | None = None) -> list[Case]:
    """``per_template`` cases from every template of every class, with fresh made-up values."""
    g = Gen(seed)
    out = []
    for cls, templates in (classes or CLASSES).items():
        for n, tpl in enumerate(templates):
            for _ in range(per_template):
                text, mask, keep = tpl(g)
                out.append(Case(cls, text, mask, keep, f"{cls}#{n}", getattr(tpl, "escape_digits", False)))
    return out


def as_read_tool_output(cases: list[Case]) -> list[Case]:
    """The same cases as Claude Code's Read tool shows a file: each line after its number, right-aligned
    in six columns, and an arrow. Must-keep values that span lines are left out (the gutter splits them)."""
    def render(text: str) -> str:
        return "\n".join(f"{n:>6}\u2192{line}" for n, line in enumerate(text.split("\n"), 1))
    return [Case(c.cls, render(c.text), c.must_mask, [k for k in c.must_keep if "\n" not in k], c.template)
            for c in cases]


# --- measurement -------------------------------------------------------------------------------------
_U_ESC = re.compile(r"\\u([0-9a-fA-F]{4})")
_JSON_ESC = re.compile(r"\\([nrt\"\\/])")


def decoded_forms(text: str) -> set[str]:
    """The output as written and as every decoding a reader (or a model) could apply to it."""
    forms = {text}
    for _ in range(2):
        for f in list(forms):
            forms.add(unquote(f))
            forms.add(unquote(f.replace("$", "%")))
            forms.add(_U_ESC.sub(lambda m: chr(int(m.group(1), 16)), f))
            forms.add(_JSON_ESC.sub(lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)), f))
    return forms


def _request(text: str, escape_digits: bool = False) -> bytes:
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024,
                       "messages": [{"role": "user", "content": text}]})
    if escape_digits:  # a client that escapes more than it must: the content's digits as \u0030..\u0039
        head, sep, tail = body.partition('"content": "')
        body = head + sep + re.sub(r"[0-9]", lambda m: _u_escape(m.group()), tail)
    return body.encode()


def run_case(masker, case: Case, as_json: bool) -> tuple[int, bool]:
    """(must-mask values gone, every must-keep kept) for one case in one mode."""
    if as_json:
        body = masker.mask_body(_request(case.text, case.escape_digits), "application/json").body
        try:
            out = json.loads(body)["messages"][0]["content"]
        except ValueError as e:   # the masked body must stay valid JSON: fail loudly, never count it
            raise AssertionError(f"{case.template}: masked body is not valid JSON") from e
    else:
        out = masker.mask_body(case.text.encode(), "text/plain").body.decode()
    forms = decoded_forms(out)
    gone = sum(1 for v in case.must_mask if not any(v in f for f in forms))
    kept = all(out.count(v) == case.text.count(v) for v in case.must_keep)
    if not case.must_mask and not case.must_keep:
        kept = out == case.text
    return gone, kept


@dataclass
class ClassStats:
    cases: int = 0
    values: int = 0
    gone_text: int = 0
    gone_json: int = 0
    passed: int = 0
    keeps: int = 0
    kept: int = 0


def measure(masker, cases: list[Case]) -> dict[str, ClassStats]:
    stats: dict[str, ClassStats] = {}
    for case in cases:
        s = stats.setdefault(case.cls, ClassStats())
        s.cases += 1
        s.values += len(case.must_mask)
        ok = True
        keep_ok = True
        for as_json in (False, True):
            gone, kept = run_case(masker, case, as_json)
            if as_json:
                s.gone_json += gone
            else:
                s.gone_text += gone
            ok = ok and gone == len(case.must_mask) and kept
            keep_ok = keep_ok and kept
        s.passed += ok
        s.keeps += 1
        s.kept += keep_ok
    return stats


def recall(s: ClassStats) -> float:
    return (s.gone_text + s.gone_json) / (2 * s.values) if s.values else 1.0


def table(stats: dict[str, ClassStats]) -> str:
    rows = [f"{'class':<16}{'cases':>6}{'values':>8}{'recall text':>13}{'recall json':>13}{'pass':>8}{'kept':>8}"]
    tot = ClassStats()
    for cls, s in stats.items():
        rows.append(f"{cls:<16}{s.cases:>6}{s.values:>8}{_pct(s.gone_text, s.values):>13}"
                    f"{_pct(s.gone_json, s.values):>13}{_pct(s.passed, s.cases):>8}{_pct(s.kept, s.keeps):>8}")
        for f in ("cases", "values", "gone_text", "gone_json", "passed", "keeps", "kept"):
            setattr(tot, f, getattr(tot, f) + getattr(s, f))
    rows.append(f"{'all':<16}{tot.cases:>6}{tot.values:>8}{_pct(tot.gone_text, tot.values):>13}"
                f"{_pct(tot.gone_json, tot.values):>13}{_pct(tot.passed, tot.cases):>8}{_pct(tot.kept, tot.keeps):>8}")
    return "\n".join(rows)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def failing_templates(masker, cases: list[Case]) -> dict[str, int]:
    """Template id -> cases that fail (for the report's --why: names templates, never values)."""
    out: dict[str, int] = {}
    for case in cases:
        for as_json in (False, True):
            gone, kept = run_case(masker, case, as_json)
            if gone < len(case.must_mask) or not kept:
                key = f"{case.template}:{'json' if as_json else 'text'}"
                out[key] = out.get(key, 0) + 1
    return out


__all__ = ["CLASSES", "Case", "Gen", "decoded_forms", "failing_templates", "generate", "measure", "recall",
           "table"]
