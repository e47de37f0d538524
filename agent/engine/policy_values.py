"""Values whose masking is a policy choice, not a detection question (see README "Policies").

Each set is switched in ``config.yaml`` (``agent/engine/settings.py``):

- ``documentation_examples`` (default ``mask``): the values AWS documentation uses as examples.
  Masking them is safe (they identify nobody) and keeps the model consistent: an example account in
  a pasted doc and a real one in the same request are treated alike, so the model never learns that
  some account-shaped values pass. ``keep`` leaves them readable.
- ``documentation_ranges`` (default ``mask``): the IP ranges reserved for documentation (RFC 5737,
  RFC 3849). Same reasoning.
- ``public_resolvers`` (default ``keep``): well-known public DNS resolvers; they say nothing about
  you and "we resolve through 8.8.8.8" reads better than a pseudonym.
- ``aws_constants`` (default ``keep``): values AWS publishes for everyone: the hosted zone IDs of
  ELB and CloudFront aliases, the accounts ELB access logs are delivered from (checked against
  Terraform's and the CDK's tables and AWS's pages). Other such values: add them with ``allow``.
- ``unlabelled_accounts`` (default ``keep``): a 12-digit number with no label and outside any ARN
  is kept, unless the same value is labelled or sits in an ARN anywhere in the request (then every
  occurrence is masked). ``mask`` masks every stand-alone 12-digit number (order numbers too).
"""

from __future__ import annotations

import ipaddress

# AWS documentation examples (the last: the canonical user ID of S3's access-log and ACL pages).
# Anything with "EXAMPLE" in it is one too (AKIAIOSFODNN7EXAMPLE,
# EDFDVBD6EXAMPLE, Z3M3LMPEXAMPLE, wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
DOCUMENTATION_EXAMPLES = frozenset("""
    123456789012 111122223333 444455556666 777788889999 210987654321 012345678901 999999999999
    i-1234567890abcdef0 i-0123456789abcdef0 vpc-1a2b3c4d subnet-1a2b3c4d sg-1a2b3c4d ami-0abcdef1234567890
    79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be
""".split())

DOCUMENTATION_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))

PUBLIC_RESOLVERS = frozenset("""
    8.8.8.8 8.8.4.4 1.1.1.1 1.0.0.1 9.9.9.9 149.112.112.112 208.67.222.222 208.67.220.220
    2001:4860:4860::8888 2001:4860:4860::8844 2606:4700:4700::1111 2606:4700:4700::1001
""".split())

# Values AWS publishes for everyone, checked (session 5) against the Terraform AWS provider
# (internal/service/elbv2/hosted_zone_id_data_source.go, internal/service/elb/
# service_account_data_source.go, internal/conns/awsclient.go), the AWS CDK's region-info
# fact-tables.ts and AWS's own pages (General Reference "Elastic Load Balancing endpoints", "Enable
# access logs for your Classic Load Balancer"); external-dns's tables agree. Newer regions are added
# here as those sources list them. In order: CloudFront's alias zone (global, China); ALB/CLB alias
# zones per region; NLB alias zones per region; the S3 website-endpoint zone of eu-west-2; the accounts
# ELB access logs are delivered from (standard, GovCloud and China partitions; then the isolated
# partitions, from the CDK alone). Then (session 11) the S3 website-endpoint zones of the other regions
# (AWS General Reference "Amazon S3 endpoints", website endpoints table; a bucket's hosted_zone_id in
# Terraform state): only those on which the Terraform provider's internal/service/s3/hosted_zones.go and
# the CDK's ROUTE_53_BUCKET_WEBSITE_ZONE_IDS agree (af-south-1 and eu-south-1 differ there: left out),
# and the EKS add-on image registry accounts (EKS_REGISTRY_ACCOUNTS, below).
AWS_CONSTANTS = frozenset("""
    Z2FDTNDATAQYW2 Z3RFFRIM2A3IF5
    Z35SXDOTRQ7X7K Z3AADJGX6KTTL2 Z368ELLRRE2KJ0 Z1H1FL5HABSF5 Z32O12XQLNTSW2 Z215JYRZR1TBD5
    Z1LMS91P8CMLE5 Z1GM3OXH4ZPM65 Z14GRHDCWA56QT Z2P70J7HTTTPLU Z268VQBMOI5EKX Z3DQVH9N71FHZ0
    ZWKZPGTI48KDX Z5LXEXXYW11ES ZP97RAFLXTNZK Z0173938T07WNTVAEPZN Z08888821HLRG5A9ZRTER
    Z09517862IB2WZLPXG76F Z06010284QMVVW7WO5J Z0390008CMBRTHFGWBCB ZQSVJUPU6J1EY
    Z06473681N0SF6OS049SD Z1GDH35T77C1KE ZM7IZAIOVVDZF Z06391101F2ZOEP8P5EB3 Z23TAZ6LKFMNIO
    Z3ULH7SSC9OV64 Z0956581394HF5D5LXGAP ZHURV8PSTC4K8 Z3Q77PNBQS71R4 Z09170902867EHPV2DABU
    Z08230872XQRWHG2XF6I ZS929ML54UICD Z023552324OKD1BB28BH5 Z166TLBEWOO7G0 Z33AYJ8TM3BH4J
    Z26RNL4JYFTOTI Z203XCE67M25HM Z12Y7K3UBGUAD1 Z31USIVHYNEOWT ZIBE1TIR4HY56 Z1GWIQ4HH19I5X
    ZVDDRBQ08TROA Z0711778386UTO08407HT ZKVM4W9LS7TM ZCT6FZBF4DROD Z01971771FYVNCOVWJU1G
    Z01156963G8MIIL7X90IV Z026317210H9ACVTRO6FB Z054363131YWATEMWRG5L Z2EPGBW3API2WT
    Z02754302KBB00W2LKWZ9 Z3QFB96KMJ7ED6 ZQEIKTCZ8352D Z3F0SRJ5LGBH90 Z02239872DOALSIDCX66S
    Z1UDT6IFJ4EJM Z23146JA1KNAFP Z1011216NVTVYADP1SSV Z2IFOLAFXWLO4F ZD4D7Y8KGAS4G Z1CMS0P5QUZ6D5
    Z0313266YDI6ZRHTGQY4 Z00282643NTTLPANJJG2P Z3QSRYVP46NYYV Z02031231H3ID6HYJ9A7U ZTK26PT1VY4CU
    ZLMOA37VPKANP Z1ZSMQQ6Q24QQ8 ZMG1MZ2THAWF1 Z24FKFUX50B4VW Z18D5FSROUN65G
    Z3GKZC51ZF0DB4
    ZNB98KWMFR0R6 Z2M4EHUR26P7ZW Z3W03O7B5YMIYP Z2YQB5RD63NC85 Z11RGJOFQNVJUP Z02976202B4EZMXIPMXF7
    Z3O0J2DXBE1FTB Z1WCIGYICN2BYD Z01846753K324LI26A3VV Z0312387243XT5FE14WFO Z08660063OXLMA7F1FJHU
    Z1QDHH18159H29 Z03565811Z33SLEZTHOUL Z5CN8UMXT92WN Z282HJ1KT0DH03 Z21DNDUVLTQW6Q Z030506016YDQGETNASS
    Z3BAZG2TWCNX0D Z0081959F7139GRJC19J Z1BKCTXD74EZPE Z3R1K369G5AVDG Z09640613K4A3MN55U7GU
    Z06143092I8HRXZRUZROF Z1MPMWCPA7YB62 Z7KQH4QJS55SO Z3AQBSTGFYJSTF Z2O1EMRO9K5GLX Z2NIFVYYW2VKV1
    Z31GFT0UA1I2HV Z2F56UZL2M1ACD Z3BJ6K6RIION7M
    127311923021 033677994240 027434742980 797873946194 985666609251 054676820928 156460612806
    652711504416 009996457667 897822967062 582318560864 600734575887 383597477331 114774131450
    783225319266 718504428378 507241528517 048591011584 190560391635 098369216593 754344448648
    589379963580 635631232127 076674570225 638102146993 037604701340
    770363063475 121062877647 740734521339 412137745753 091100254016
""".split())

# The accounts of the Amazon ECR registries EKS add-on images are pulled from (VPC CNI, kube-proxy,
# CoreDNS, the EBS CSI driver: <account>.dkr.ecr.<region>.amazonaws.com/amazon-k8s-cni:...), per
# region, as the EKS user guide lists them ("View Amazon container image registries for Amazon EKS
# add-ons"); the repositories under them are AWS's too (splitters.ecr_repository).
EKS_REGISTRY_ACCOUNTS = frozenset("""
    602401143452 877085696533 800184023465 900889452093 296578399912 491585149902 761377655185
    918309763551 961992271922 900612956339 590381155156 455263428931 066635153087 558608220178
    759879836304 151742754352 013241004608
""".split())
# The accounts of the Amazon ECR registries AWS Deep Learning Containers are pulled from (SageMaker
# training and inference images: <account>.dkr.ecr.<region>.amazonaws.com/pytorch-training:...), per
# region, as the DLC's available_images.md lists them; the repositories under them are AWS's too.
DLC_REGISTRY_ACCOUNTS = frozenset("""
    763104351884 626614931356 871362719292 364406365360 907027046896 692866216735 217643126080
    914824155844 727897471807
""".split())
AWS_REGISTRY_ACCOUNTS = EKS_REGISTRY_ACCOUNTS | DLC_REGISTRY_ACCOUNTS
AWS_CONSTANTS = AWS_CONSTANTS | AWS_REGISTRY_ACCOUNTS


def kept_values(config) -> frozenset[str]:
    """The exact values ``config``'s policies keep readable (one set lookup per finding)."""
    out: set[str] = set()
    if config.public_resolvers == "keep":
        out |= PUBLIC_RESOLVERS
    if config.aws_constants == "keep":
        out |= AWS_CONSTANTS
    if config.documentation_examples == "keep":
        out |= DOCUMENTATION_EXAMPLES
    return frozenset(out)


def kept_by_pattern(value: str, kind_format: str, config) -> bool:
    """The policies that keep a family of values, not a list: ``EXAMPLE`` values, documentation ranges."""
    if config.documentation_examples == "keep" and "EXAMPLE" in value:
        return True
    return (config.documentation_ranges == "keep" and kind_format in ("ipv4", "ipv6")
            and _in_ranges(value, DOCUMENTATION_RANGES))


def _in_ranges(value: str, ranges) -> bool:
    """An address, or a network written with its prefix length (``192.0.2.0/25``), inside one of ``ranges``."""
    try:
        net = ipaddress.ip_network(value)
    except ValueError:
        return False
    return any(net.version == r.version and net.subnet_of(r) for r in ranges)
