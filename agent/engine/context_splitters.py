"""Splitters that read the context around a match: labels before a bare value, table headers over
their columns, console URL paths. Registered into ``splitters.SPLITTERS`` (used by ``recall.yaml``).

Each one accepts a value only when its context says what the value is (an account label in any of
the languages people write, a column header, a console route); none guesses from a word alone.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from agent.engine.labels import words
from agent.engine.splitters import (
    _SERVICE_SEGMENT,
    ACCOUNT,
    EC2_ID,
    SAFE,
    Part,
    _keep_segment,
    _path_parts,
    context_value,
    english_phrase,
    name_shaped,
    nothing_secret,
)

# --- accounts named by a label, in prose, tables and four languages --------------------------------
# What may stand between a label and its value: spaces, punctuation, markdown (`**`, backticks), table
# bars, JSON quotes, brackets and escapes (\n); never a word. CJK full-width colon, bracket and space too.
_FILL_CHARS = frozenset(" \t\r\n:=#([{\"'`*|,.\x00\\<>-\uff1a\uff08\u3000")
_FILL_MAX = 40
_ACCOUNT_LABEL = re.compile(
    r"(?:(?i:acc(?:oun)?t(?:s|[ _-]?(?:ids?|no|nos|numbers?|num|#))?)"
    r"|Principal|\bUserId|\bAWS|\"AWS"
    r"|\uacc4\uc815(?:[ ]?ID|[ ]?\ubc88\ud638)?"                                 # 계정, 계정 ID, 계정 번호
    r"|\u30a2\u30ab\u30a6\u30f3\u30c8(?:ID|\u756a\u53f7)?"                        # アカウント(ID|番号)
    r"|[\u8d26\u5e10\u8cec\u5e33][\u6237\u53f7\u6236\u865f](?:[ ]?ID|\u53f7\u7801|\u865f\u78bc)?"  # 账户 账号 帳戶 帳號
    r")\Z")
_LABEL_MAX = 24
# A list item already passed over on the way back to the label: "A, B and C", bullets, JSON arrays.
_LIST_ITEM = re.compile(
    r"[0-9]{12}[\"'`*)\]\x00\\]*[ \t]*(?:,|;|&|/|\band|\bor|\\n|\n|\u3001|\uff0c)"
    r"[ \t]*(?:(?:\\n|\n)[ \t]*)?(?:[-*][ \t]+)?[\"'`(\[\\]*[ \t]*\Z")
_ITEM_MAX = 40
_LOOKBACK = 160


def _skip_fill(text: str, k: int, lo: int) -> int:
    """Where the run of label-to-value filler that ends at ``k`` starts (JSON escapes count as filler)."""
    stop = max(lo, k - _FILL_MAX)
    while k > stop:
        if text[k - 1] in _FILL_CHARS:
            k -= 1
        elif text[k - 1] in "nrt" and k - 2 >= stop and text[k - 2] in "\\\x00":
            k -= 2
        else:
            break
    return k


def labelled_account(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """A bare 12-digit number that a label names as an account: ``AWS account #…``, ``prod account
    (…)``, ``**Account:** …``, ``acct no. …``, ``"Principal": {"AWS": ["…"]}``, ``"UserId": "…"``,
    ``운영 계정(…)``, ``本番アカウント …``, ``账户ID：…``; later items of a list after such a label
    (``accounts A, B and C``) too."""
    start, end = m.span("value")
    if start and text[start - 1] == ":" and text[end:end + 1] == ":":
        return []  # inside an ARN: the ARN detector owns it
    lo = max(0, start - _LOOKBACK)
    k = start
    for _ in range(32):
        label_end = _skip_fill(text, k, lo)
        if _ACCOUNT_LABEL.search(text, max(lo, label_end - _LABEL_MAX), label_end):
            return [(start, end, kind)]
        item = _LIST_ITEM.search(text, max(lo, k - _ITEM_MAX), k)
        if item is None:
            return []
        k = item.start()
    return []


def account_list(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Every 12-digit account in a labelled value (one account, or a list after the label)."""
    start, end = m.span("value")
    return [(a.start(), a.end(), kind) for a in _TWELVE.finditer(text, start, end)]


_TWELVE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


# The account a bullet line ends with: "* Log archive — 123456789012", "- prod: 123456789012."; the
# last line may end the JSON string the list stands in.
_BULLET_ACCOUNT = re.compile(r"(?<![0-9A-Za-z])[0-9]{12}(?=[ \t.)`*]*(?:\r?\n|\\[nr]|\\?\"|$))")


def account_bullets(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The accounts of a bullet list under a heading that names them ("Accounts in scope:"): the
    12 digits each bullet ends with, whatever the bullet says before them."""
    start, end = m.span("value")
    return [(a.start(), a.end(), "account") for a in _BULLET_ACCOUNT.finditer(text, start, end)]


# A row of an account list under an accounts heading (a billing email's "Linked accounts on this
# invoice:"): 12 digits, then two spaces or a tab and what the account is called.
_ACCOUNT_ROW = re.compile(r"(?<![0-9A-Za-z])([0-9]{12})(?:[ \t]{2,}|\t)([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])?")


def account_rows(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Each row's account, and its name when that is name-shaped and no phrase ("Log Archive" stays)."""
    start, end = m.span("value")
    out: list[Part] = []
    for r in _ACCOUNT_ROW.finditer(text, start, end):
        out.append((r.start(1), r.end(1), "account"))
        name = r.group(2)
        if name and name_shaped(name) and not english_phrase(name) and not nothing_secret(name):
            out.append((r.start(2), r.end(2), "name"))
    return out


# --- secret access keys: 40 characters of base64 ------------------------------------------------------
def secret_key(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """A secret access key: 40 base64 characters with upper case, lower case and a digit or ``/+``
    (a word, a SHA-1 in hex or a path never has all three); 44 for an SES SMTP password (derived from
    a secret key: a version byte and a 32-byte HMAC)."""
    start, end = m.span("value")
    value = text[start:end]
    if len(value) not in (40, 44) or not (any(c.islower() for c in value) and any(c.isupper() for c in value)
                                and any(c.isdigit() or c in "/+" for c in value)):
        return []
    return [(start, end, kind)]


# --- names after a service noun ("the Lambda functions x and y") ------------------------------------
# The first part of English compounds (auto-scaling, cross-account, read-only, fan-out, on-demand):
# a two-part hyphenated word with one of these is a compound, not a name.
COMPOUND_WORDS = frozenset("""
    auto cross read write only multi single on off out in non pre post self real time based level wide side
    driven facing managed owned hosted native aware enabled disabled free side fan scale up down built
    zero low high long short full half well user server client event cold warm hot dead letter
""".split())
_CAMEL = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+")
_NAME_IN_LIST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]")


def _compound(token: str) -> bool:
    parts = token.lower().split("-")
    return len(parts) == 2 and "_" not in token and not any(c.isdigit() for c in token) and (
        parts[0] in COMPOUND_WORDS or parts[1] in COMPOUND_WORDS)


def _plain_name(token: str) -> bool:
    return name_shaped(token) and "." not in token and not english_phrase(token) and not _compound(token)


def service_names(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Names in the list after a service noun: name-shaped (a ``-``, ``_`` or digit), or CamelCase
    with two or more humps (``OrdersTable``); never an English phrase or compound (end-to-end,
    auto-scaling)."""
    start, end = m.span("value")
    out = []
    any_token = params.get("any_token", False)   # the context alone says these are names (--query)
    need_sep = params.get("need_separator", False)  # weak context (a line "S3: x"): 5GB, v1.29 are not names
    for t in _NAME_IN_LIST.finditer(text, start, end):
        token, tstart = t.group().rstrip("."), t.start()
        if tstart and text[tstart - 1] == "\\" and token[0] in "nrtbf":
            token, tstart = token[1:], tstart + 1   # the letter of a JSON escape (\tname) is no part of it
        if len(token) < 3 or token in ("and", "or"):
            continue
        if need_sep and not ("-" in token or "_" in token or _CAMEL.fullmatch(token)):
            continue
        if (any_token and SAFE.fullmatch(token)) or _CAMEL.fullmatch(token) or _plain_name(token):
            out.append((tstart, tstart + len(token), kind))
    return out


# --- tables: markdown and CSV columns whose header says what they hold -------------------------------
_ACCOUNT_HEADERS = frozenset("""accountid account awsaccount awsaccountid accountnumber accountno ownerid
    usageaccountid payeraccountid billpayeraccountid linkedaccountid linkedaccount payeraccount lineitemusageaccountid
    memberaccount""".split())
# An AWS Organizations account export (Id, Arn, Email, Name, Status, JoinedMethod, JoinedTimestamp: the
# members of its Account structure): its Id column holds accounts, its Name column names them.
ORG_ACCOUNT_HEADERS = frozenset("joinedmethod joinedtimestamp".split())
# A Cost Explorer export writes a linked account as "<12 digits> (<its name>)".
_ACCOUNT_NAMED = re.compile(r"([0-9]{12}) \(([^()]{1,64})\)")
NAME_HEADERS = frozenset("""
    bucket bucketname s3bucket s3bucketname dbinstance dbinstanceidentifier dbinstanceid rdsinstance
    dbcluster dbclusteridentifier functionname lambda lambdafunction lambdafunctionname tablename
    dynamodbtable queue queuename sqsqueue topicname snstopic cluster clustername ecscluster ekscluster
    stackname cloudformationstack repositoryname ecrrepository rolename iamrole iamuser loggroup
    loggroupname secretname statemachine statemachinename keyname ecsservice instancename
    autoscalinggroup autoscalinggroupname asgname loadbalancer loadbalancername targetgroup nodegroup
    nodegroupname securitygroups securitygroup securitygroupname groupname
""".split())
# Headers that also name other things (a person's role, a code function, an SQL table): their cells
# must look like resource names (a - or _, or CamelCase), so "Engineer" and "parse_args" stay.
_WEAK_HEADERS = frozenset("""role function table stack service user repository topic resource resourcename
    resourceid lineitemresourceid environment env""".split())
# A generic ID / Name column beside a column of resource types (| Resource | ID |: | ASG | x |) holds
# those resources' names: read as a weak column.
_TYPE_HEADERS = frozenset("resource resourcetype type service kind".split())
_GENERIC_HEADERS = frozenset("id name identifier".split())
# So does a Name column beside a column of the resources' own IDs or ARNs (Steampipe's select instance_id,
# ..., tags ->> 'Name' as name; an --output table of InstanceId and Name): their Name tags.
_RESOURCE_ID_HEADER = re.compile(r"(?:instance|volume|vpc|subnet|image|snapshot|natgateway|networkinterface"
                                 r"|transitgateway|internetgateway|routetable|securitygroup|launchtemplate)id"
                                 r"|arn|resourcearn")
# Beside an account column (an account inventory, a cost sheet by linked account), the column that names
# each account, and the e-mail of the account or its owner. AWS lets an account's name be any text, so
# it is masked word by word (a pseudonym holds no space); an e-mail gives its domain's own label.
_ACCOUNT_NAME_HEADERS = frozenset("""accountname awsaccountname linkedaccountname memberaccountname
    accountalias accountdisplayname""".split())
PLACEHOLDERS = frozenset("- -- n/a na none null tbd todo yes no true false unknown".split())
_CELL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")
# A UUID is an ID AWS generates per call or run (an SSM command's, a Batch job's), kept as under a label
_UUID_CELL = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A cell that is a value, not a header: an identifier of hyphen-joined parts with a digit, or 12 digits.
_VALUE_CELL = re.compile(r"(?=[^ ]*[0-9])[A-Za-z0-9]+(?:[-_.:/][A-Za-z0-9]+)+|[0-9]{12}")
_LINE_SPLIT = re.compile(r"\r?\n|(?:\\r)?\\n")


def spans_between(separator: re.Pattern, text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of ``text[start:end]`` between two matches of ``separator``."""
    spans, pos = [], start
    for m in separator.finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return spans


def line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each line in ``text[start:end]``, its break (real or JSON-escaped) left out."""
    return spans_between(_LINE_SPLIT, text, start, end)


def header_key(header: str) -> str:
    """A header cell as one lower-case word; a Cost and Usage Report column (lineItem/UsageAccountId)
    by its last part."""
    return re.sub(r"[^a-z0-9]", "", header.rsplit("/", 1)[-1].lower())


def table_columns(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Cells of a markdown table (``| Bucket | Region |``) or CSV block whose header names the
    column: account columns must hold 12 digits, name columns a single token (no placeholders)."""
    start, end = m.span("value")
    fmt = params.get("format")
    if fmt == "html":
        cells_of = _html_rows(text, start, end)
    elif fmt == "tsv":
        cells_of = [_tab_cells(text, s, e) for s, e in line_spans(text, start, end)]
    elif fmt == "fixed":
        cells_of = _fixed_cells(text, start, end)
    elif fmt == "asciidoc":
        cells_of = _asciidoc_rows(text, start, end)
    elif fmt == "psql":   # psql's aligned output: cells between bars, no bar at either end
        cells_of = [spans_between(_BAR, text, s, e) for s, e in line_spans(text, start, end)]
    elif fmt == "box":    # drawn with box characters: the rows that hold a vertical bar, cells between them
        cells_of = [spans_between(_BOX_BAR, text, s, e) for s, e in line_spans(text, start, end)
                    if _BOX_BAR.search(text, s, e)]
    else:
        sep = "|" if fmt == "markdown" else ","
        cells_of = [_cells(text, s, e, sep) for s, e in line_spans(text, start, end)]
    if not cells_of or not cells_of[0]:
        return []
    keep = params.get("keep_values", frozenset())
    if params.get("header_words") and any(_VALUE_CELL.fullmatch(text[cs:ce].strip(" \t*`")) for cs, ce in cells_of[0]):
        return []   # a value among the header's cells (BucketName<tab>cdk-...-assets-...): rows, not a table
    headers = [header_key(text[cs:ce].strip(" \t*`")) for cs, ce in cells_of[0]]
    typed = not _TYPE_HEADERS.isdisjoint(headers)
    by_id = any(_RESOURCE_ID_HEADER.fullmatch(h) for h in headers)
    org = not ORG_ACCOUNT_HEADERS.isdisjoint(headers)
    kinds = {}
    for i, h in enumerate(headers):
        if h in _ACCOUNT_HEADERS or (org and h == "id"):
            kinds[i] = "account"
        elif org and h == "name":
            kinds[i] = "name"
        elif h in NAME_HEADERS or (h.endswith("bucket") and h.isalpha()) or h in params.get("name_headers", ()):
            kinds[i] = "name"
        elif h in _WEAK_HEADERS or (typed and h in _GENERIC_HEADERS) or (by_id and h == "name") \
                or h in params.get("weak_headers", ()):
            kinds[i] = "weak"
    if "account" in kinds.values():
        for i, h in enumerate(headers):
            if h in _ACCOUNT_NAME_HEADERS:
                kinds[i] = "account-name"
            elif "email" in h and i not in kinds and params.get("tlds"):
                kinds[i] = "email"
    if not kinds:
        return []
    out: list[Part] = []
    for row in cells_of[1:]:
        for i, col_kind in kinds.items():
            if i >= len(row):
                continue
            cs, ce = row[i]
            if col_kind == "account-name":
                out.extend(_account_name_words(text, cs, ce, kind))
                continue
            if col_kind == "email":
                out.extend(email_domain_label(text, cs, ce, params["tlds"], kind))
                continue
            for vs, value in _cell_items(text, cs, ce):
                _cell_part(out, vs, value, col_kind, keep, kind)
    return out


_NAME_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._&+-]*")
_ACCOUNT_NAME_CELL = re.compile(r"[ \t`\"]*[A-Za-z0-9][A-Za-z0-9 ._&+()-]{0,63}[ \t`\"]*")


def _account_name_words(text: str, cs: int, ce: int, kind: str) -> list[Part]:
    """The words of an account's name in its column (``Helios Shared Services 9``, ``payments-prod``)."""
    cell = text[cs:ce]
    if not _ACCOUNT_NAME_CELL.fullmatch(cell) or cell.strip(" \t`\"").lower() in PLACEHOLDERS:
        return []
    return [(w.start() + cs, w.end() + cs, kind) for w in _NAME_WORD.finditer(cell)]


def email_domain_label(text: str, start: int, end: int, tlds, kind: str) -> list[Part]:
    """For each e-mail in ``text[start:end]``, the span of its domain's own label (``platform@<x>.com.br``,
    ``_own_label_span``) when the domain ends in a real top-level domain (``tlds``) and is no public mail
    provider's, or nothing."""
    out: list[Part] = []
    for e in _EMAIL.finditer(text, start, end):
        own = _own_label_span(e)
        if own is None or e.group("domain").rsplit(".", 1)[-1] not in tlds or own[2] in _PUBLIC_MAIL \
                or own[2] in _SECOND_LEVEL or len(own[2]) < 3:
            continue
        out.append((own[0], own[1], kind))
    return out


_PS_LIST = re.compile(r"\{([^{}]{1,1000})\}")


def _cell_items(text: str, cs: int, ce: int) -> list[tuple[int, str]]:
    """``(start, value)`` of a cell's value, marks (`` ` ``) and white space left out; a PowerShell
    collection (``{a, b}``, Format-Table's view of a list property: SecurityGroups) item by item."""
    cell = text[cs:ce]
    lead = len(cell) - len(cell.lstrip(" \t`"))
    value = cell.strip(" \t`")
    vs = cs + lead
    ps = _PS_LIST.fullmatch(value)
    if ps is None:
        return [(vs, value)]
    items, pos = [], vs + 1
    for item in ps.group(1).split(","):
        lead = len(item) - len(item.lstrip(" "))
        items.append((pos + lead, item.strip(" ")))
        pos += len(item) + 1
    return items


def _cell_part(out: list[Part], vs: int, value: str, col_kind: str, keep, kind: str) -> None:
    """The part a cell's value gives under a column of ``col_kind``, if any."""
    if col_kind == "account":
        named = None if ACCOUNT.fullmatch(value) else _ACCOUNT_NAMED.fullmatch(value)
        if named is not None or ACCOUNT.fullmatch(value):
            out.append((vs, vs + 12, "account"))
    elif col_kind == "weak" and (value.lower() in keep or not (_CAMEL.fullmatch(value) or (
            ("-" in value or "_" in value) and _plain_name(value)))):
        return   # an AWS word (a Service column's ElastiCache), or not shaped like a name
    elif (value.lower() not in PLACEHOLDERS and _CELL.fullmatch(value) and SAFE.fullmatch(value)
          and not set(value) <= set("-:")):
        out.append((vs, vs + len(value), kind))


_HTML_ROW = re.compile(r"<tr\b[^<>]{0,200}>((?:[^<]|<(?!/?tr\b|/table>)){0,4000})", re.I)
_HTML_CELL = re.compile(r"<t[hd]\b[^<>]{0,200}>((?:[^<]|<(?!/?t[hdr]\b|/table>)){0,2000})", re.I)
_HTML_TEXT = re.compile(r"<[^<>]{0,400}>|[^<]+")


def _trimmed(text: str, s: int, e: int) -> tuple[int, int]:
    """``(s, e)`` without the white space and JSON escapes (``\\n``, ``\\t``) at either end."""
    while s < e:
        if text[s] in " \t\r\n\x00":
            s += 1
        elif text[s] == "\\" and s + 1 < e and text[s + 1] in "nrt":
            s += 2
        else:
            break
    while e > s:
        if text[e - 1] in " \t\r\n\x00":
            e -= 1
        elif e - 2 >= s and text[e - 2] == "\\" and text[e - 1] in "nrt":
            e -= 2
        else:
            break
    return s, e


def _html_rows(text: str, start: int, end: int) -> list[list[tuple[int, int]]]:
    """The cells of each ``<tr>`` of an HTML table, each cell the one run of text it holds outside its
    tags (``<td><code>x</code></td>``, ``<td><a href="...">x</a></td>``); a cell with no text, or
    with several runs, is an empty span."""
    rows = []
    for row in _HTML_ROW.finditer(text, start, end):
        cells = []
        for cell in _HTML_CELL.finditer(text, row.start(1), row.end(1)):
            texts = _HTML_TEXT.finditer(text, cell.start(1), cell.end(1))
            runs = [r for r in (_trimmed(text, *t.span()) for t in texts if text[t.start()] != "<") if r[1] > r[0]]
            cells.append(runs[0] if len(runs) == 1 else (cell.start(1), cell.start(1)))
        rows.append(cells)
    return rows


_BAR = re.compile(r"\|")
_BOX_BAR = re.compile("\u2502|\u2503|\u2551")   # the light, heavy and double vertical of box drawing
_TAB_RUN = re.compile(r"(?:\t|\\t)+")


def _tab_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The cells of a line whose columns a run of tabs separates (eksctl aligns them with several)."""
    return spans_between(_TAB_RUN, text, start, end)


_DASHES = re.compile(r"-+|=+")   # = : a reStructuredText simple table's column rule


def _fixed_cells(text: str, start: int, end: int) -> list[list[tuple[int, int]]]:
    """Cells of a fixed-width table whose second line underlines each column with dashes (PowerShell's
    Format-Table, the AWS Tools' default view of a list): a column runs from its dashes to the next
    column's; the header's cells first, then each row's, the dashes line left out."""
    lines = line_spans(text, start, end)
    if len(lines) < 3:
        return []
    ds, de = lines[1]
    cols = [d.start() - ds for d in _DASHES.finditer(text, ds, de)]
    out = []
    for n, (ls, le) in enumerate(lines):
        if n == 1:
            continue
        bounds = [min(ls + c, le) for c in cols] + [le]
        out.append([(bounds[i], bounds[i + 1]) for i in range(len(cols))])
    return out


def _asciidoc_rows(text: str, start: int, end: int) -> list[list[tuple[int, int]]]:
    """Rows of an AsciiDoc table's body (between its ``|===`` lines): the first line's cells are the
    header, then the cells, one per line or several on a line, fill rows of as many columns."""
    cells = []
    header: list[tuple[int, int]] = []
    for ls, le in line_spans(text, start, end):
        line = text[ls:le]
        if not line.lstrip(" \t").startswith("|"):
            continue
        row = [(ls + i + 1, ls + j) for i, j in _adoc_bounds(line)]
        if not header:
            header = row
        else:
            cells.extend(row)
    if len(header) < 2:
        return []
    n = len(header)
    return [header] + [cells[i:i + n] for i in range(0, len(cells), n)]


def _adoc_bounds(line: str) -> list[tuple[int, int]]:
    """``(bar, end)`` of each cell of an AsciiDoc table line: from a ``|`` to the next or the end."""
    bars = [i for i, c in enumerate(line) if c == "|"]
    return [(b, bars[k + 1] if k + 1 < len(bars) else len(line)) for k, b in enumerate(bars)]


def _cells(text: str, start: int, end: int, sep: str) -> list[tuple[int, int]]:
    line = text[start:end]
    if sep == "|":
        stripped = line.strip()
        if not stripped.startswith("|"):
            return []
        if stripped.startswith("||") and stripped.count("|") == 2 * stripped.count("||"):
            # a Confluence wiki header row (|| Bucket || Account ID ||), not a markdown row's empty first cell
            sep = "||"
        first = start + line.index(sep) + len(sep)
        last = start + line.rstrip().rindex(sep)
        if last <= first:
            return []
        start, end = first, last
    cells, pos = [], start
    while True:
        i = text.find(sep, pos, end)
        if i < 0:
            cells.append((pos, end))
            return cells
        cells.append((pos, i))
        pos = i + len(sep)


# A --query projection: the keys of its last multiselect list (``[StackName,StackStatus]``,
# ``instances[].[name,state.name,SecurityGroupIds[0]]``) or its last key (``Functions[].FunctionName``).
_QUERY_KEY = re.compile(r"[A-Za-z0-9_]+(?:\[[0-9*]{0,4}\])*(?:\.[A-Za-z0-9_]+(?:\[[0-9*]{0,4}\])*)*")
_QUERY_LAST = re.compile(r"([A-Za-z0-9_]+)\s*$")
_QUERY_INDEX = re.compile(r"\[[0-9*]{0,4}\]")
CLI_TAB = re.compile(r"\t|\\t")
# A catalogue value AWS names with words and version numbers (Lightsail's bundle medium_3_0 and
# blueprint ubuntu_22_04): not an ID a customer's resource got.
CATALOGUE_ID = re.compile(r"[a-z]+(?:_[0-9]+)+")


def _multiselect(query: str) -> tuple[str, list[str]] | None:
    """``(prefix, items)`` of a query ending in a multiselect list, or None."""
    q = query.strip()
    if not q.endswith("]"):
        return None
    depth = 0
    for i in range(len(q) - 1, -1, -1):
        depth += {"]": 1, "[": -1}.get(q[i], 0)
        if depth == 0:
            items = [k.strip() for k in q[i + 1:-1].split(",")]
            if len(items) < 2 or not all(_QUERY_KEY.fullmatch(k) for k in items):
                return None
            return q[:i], items
    return None


def _query_columns(query: str, labels) -> dict[int, str] | None:
    """Column -> what it holds (``name``, ``id`` or ``account``) for a --query projection; None: the one
    key of a single-key query names an identifier (every word is its value)."""
    multi = _multiselect(query)
    if multi is None:
        last = _QUERY_LAST.search(query)
        return None if last and labels.matches(words(last.group(1))) else {}
    prefix, items = multi
    owner = _QUERY_INDEX.sub("", prefix).rstrip(".").rsplit(".", 1)[-1]
    out: dict[int, str] = {}
    for i, item in enumerate(items):
        w = owned_label(words(_QUERY_INDEX.sub("", item).replace(".", "_")), owner)
        what = column_kind(w, labels)
        if what is not None:
            out[i] = what
    return out


def owned_label(w: tuple[str, ...], owner: str) -> tuple[str, ...]:
    """Label words ``w``; a generic ``name`` or ``id`` as the label of what ``owner`` (the list or
    section it stands in, plural) holds: ``instances[].[name]``, a ``DBInstances`` section's ``Id``."""
    if w not in (("name",), ("id",)):
        return w
    o = words(owner)
    return (o[:-1] + (o[-1].removesuffix("s"),) if o else o) + w


def column_kind(w: tuple[str, ...], labels) -> str | None:
    """What a column whose key has the words ``w`` holds: ``account``, ``email``, ``id``, ``name``, or
    None (no identifier)."""
    if w[-2:] in (("owner", "account"), ("owner", "id"), ("account", "id")) or w == ("account",):
        return "account"
    if w[-1:] == ("email",) or w[-2:] == ("email", "address"):
        return "email"   # an account's root e-mail (Organizations' Email, Detective's EmailAddress)
    if labels.matches(w):
        return "id" if w[-1] in ("id", "ids") else "name"
    return None


_EMAIL = re.compile(r"(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@(?P<domain>(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24})")
# A country's generic second level, part of the public suffix (co.uk, com.br, org.au)
_SECOND_LEVEL = frozenset("com co org net gov edu ac ne or go gob mil nom".split())
# Mail domains everyone uses, AWS's own, open-source projects' mailing lists (user@spark.apache.org),
# and the placeholders of the docs: no customer's own
_PUBLIC_MAIL = frozenset("""example localhost local internal invalid test amazonaws amazon aws awsapps cloudfront
    gmail googlemail google googlegroups outlook hotmail live yahoo icloud me protonmail proton gmx github
    noreply users apache python kernel gnu debian ubuntu mozilla eclipse linuxfoundation cncf""".split())


_DOMAIN = re.compile(r"(?P<domain>(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24})")


def _own_label_span(e: re.Match, offset: int = 0) -> tuple[int, int, str] | None:
    """A mail domain's own label (group ``domain`` of ``e``), as (start, end, label) plus ``offset``:
    the label before the public suffix (``co.uk``, ``com.br`` counted as one); None when there is
    none (``x@com``)."""
    labels = e.group("domain").split(".")
    own = len(labels) - (3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2)
    if own < 0:
        return None
    pos = offset + e.start("domain") + sum(len(lab) + 1 for lab in labels[:own])
    return pos, pos + len(labels[own]), labels[own]


def email_parts(value: str, start: int, kind: str) -> list[Part]:
    """An e-mail address an identifier column names (an AWS account's root address): its local part
    and its domain's own label (the label before the public suffix, ``co.uk`` counted as one), each a
    name; a public mail provider's domain stays, and the docs' placeholder address whole."""
    e = _EMAIL.fullmatch(value)
    if e is None:
        return []
    own = _own_label_span(e, start)
    if own is None or own[2] in ("example", "localhost"):
        return []   # the docs' placeholder address
    out: list[Part] = [(start, start + e.end("local"), kind)]
    if own[2] not in _PUBLIC_MAIL:
        out.append((own[0], own[1], kind))
    return out


_MAIL_IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[a-z0-9.-]{3,253}"
                            r"|(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}")


def mail_identities(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The SES identities a message lists (e-mail addresses and domains): an address as
    ``email_parts`` cuts it; a domain, its own label (before the public suffix)."""
    out: list[Part] = []
    for t in _MAIL_IDENTITY.finditer(text, *m.span("value")):
        if "@" in t.group():
            out.extend(email_parts(t.group(), t.start(), kind))
            continue
        own = _own_label_span(_DOMAIN.fullmatch(t.group()), t.start())
        if own is not None and own[2] not in _PUBLIC_MAIL and own[2] not in ("example", "localhost"):
            out.append((own[0], own[1], kind))
    return out


def cli_query_columns(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The rows an ``aws ... --query Q --output text`` (or ``table``) command prints: with one key,
    every tab-separated word is its value; with a multiselect list (``[StackName,StackStatus]``), the
    columns whose key names an identifier (``params["labels"]``; a generic ``name`` by the list it
    selects from: ``instances[].[name,...]``), and 12-digit owner accounts (``ownerAccount``). An ID
    column's cell holds a digit and is no catalogue value (``medium_3_0``); a UUID only there."""
    wanted = _query_columns(m.group("query"), params["labels"])
    if wanted == {}:
        return []
    table = params.get("output") == "table"
    out: list[Part] = []
    titled = False
    for pos, line_end in line_spans(text, *m.span("value")):
        if table:
            line = text[pos:line_end].strip()
            if not line.startswith("|"):
                continue
            if not titled:
                titled = True   # the first bar line is the table's title (GetInstances)
                continue
            inner = text.index("|", pos) + 1
            cells = bar_cells(text, inner, text.rindex("|", pos, line_end))
            if wanted is not None and len(cells) <= max(wanted, default=0):
                continue
        else:
            cells = spans_between(CLI_TAB, text, pos, line_end)
        for i, (cs, ce) in enumerate(cells):
            what = "name" if wanted is None else wanted.get(i)
            if what is not None:
                out.extend(cell_parts(text, cs, ce, what, kind))
    return out


_ACCOUNT_CELL = re.compile(r"[0-9]{12}")


def cell_parts(text: str, start: int, end: int, what: str, kind: str) -> list[Part]:
    """The parts of a table cell ``text[start:end]`` (blanks around it allowed) whose column holds
    ``what`` (``column_kind``): an account's 12 digits, an e-mail's own parts, an ID that holds a
    digit or a hyphen and is no catalogue value (``medium_3_0``; a UUID only there), a name."""
    raw = text[start:end]
    value = raw.strip()
    vs = start + len(raw) - len(raw.lstrip())
    if what == "email":
        return email_parts(value, vs, kind)
    if not value or not _CELL.fullmatch(value) or not SAFE.fullmatch(value) or value.lower() in PLACEHOLDERS:
        return []
    if what == "account":
        return [(vs, vs + len(value), "account")] if _ACCOUNT_CELL.fullmatch(value) else []
    if _UUID_CELL.fullmatch(value) and what != "id":
        return []
    if what == "id" and (not any(c.isdigit() or c == "-" for c in value) or CATALOGUE_ID.fullmatch(value)):
        return []
    return [(vs, vs + len(value), kind)]


def bar_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cells, pos = [], start
    while True:
        i = text.find("|", pos, end)
        if i < 0:
            cells.append((pos, end))
            return cells
        cells.append((pos, i))
        pos = i + 1


# --- a customer's own domain, where a key says so ---------------------------------------------------
def customer_domain(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The label before the top-level domain (group ``value``), when the domain ends in a real one
    (group ``tld``, one of ``params["tlds"]``: the Public Suffix List's, packs/tlds.yaml). In code,
    ``domain = cookie.domain``, ``this.from = edge.from`` and ``self.path.split(...)`` are shaped
    like domains under a domain or sender key, but ``domain``, ``from`` and ``split`` are no TLD."""
    if m.group("tld").lower().rsplit(".", 1)[-1] not in params["tlds"]:   # co.uk: uk
        return []
    start, end = m.span("value")
    return [(start, end, kind)] if SAFE.fullmatch(text, start, end) else []


# --- AWS console URLs -------------------------------------------------------------------------------
_CONSOLE_ROUTES = [re.compile(p) for p in (
    r"/s3/(?:buckets|bucket|object)/(?P<v>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])",
    r"#(?:database|dbinstance|db-instance|cluster|dbcluster):id=(?P<v>[A-Za-z0-9][A-Za-z0-9-]*)",
    r"#/(?:functions|roles(?:/details)?|users(?:/details)?|groups(?:/details)?|stateMachines/view|"
    r"applications|queues|topics|tables|clusters|repositories(?:/private/[0-9]{12})?)/(?P<v>[A-Za-z0-9_.+=@-]+)",
    r"#table\?name=(?P<v>[A-Za-z0-9_.-]+)",
    r"/ecs/v2/clusters/(?P<v>[A-Za-z0-9_-]+)(?:/services/(?P<v2>[A-Za-z0-9_-]+))?",
    r"/(?:eks/home[^#]*#/clusters|ecr/repositories(?:/private/[0-9]{12})?)/(?P<v>[A-Za-z0-9_.-]+)",
    r"log-group/(?P<lg>[A-Za-z0-9_.$%/+-]+)",
    # Amazon CodeCatalyst: codecatalyst.aws/spaces/<space>/projects/<project>/source-repositories/<repo>
    r"codecatalyst\.aws/spaces/(?P<v>[A-Za-z0-9][A-Za-z0-9_.-]*)(?:/projects/(?P<v2>[A-Za-z0-9][A-Za-z0-9_.-]*)"
    r"(?:/source-repositories/(?P<v3>[A-Za-z0-9][A-Za-z0-9_.-]*))?)?",
)]
_ENCODED_SLASH = re.compile(r"(?:\$252F|%252F|\$2F|%2F|/)", re.IGNORECASE)


def console_url(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Resource names in the path or fragment of an AWS console URL (``/s3/buckets/x``,
    ``#database:id=x``, ``#/functions/x``, ``#/roles/details/x``, log groups double-encoded
    ``$252Faws$252Flambda$252Fx``)."""
    start, end = m.span("value")
    out: list[Part] = []
    for route in _CONSOLE_ROUTES:
        for r in route.finditer(text, start, end):
            for g in ("v", "v2", "v3"):
                if g in r.groupdict() and r.group(g):
                    s, e = r.span(g)
                    value = unquote(text[s:e])
                    if value == text[s:e] and not _keep_segment(value):
                        out.append((s, e, "account" if ACCOUNT.fullmatch(value) else kind))
            if "lg" in r.groupdict() and r.group("lg"):
                out.extend(_log_group_parts(text, *r.span("lg"), kind))
    return sorted(set(out))


def _log_group_parts(text: str, start: int, end: int, kind: str) -> list[Part]:
    out, pos, after_aws = [], start, False
    pieces = []
    for sm in _ENCODED_SLASH.finditer(text, start, end):
        pieces.append((pos, sm.start()))
        pos = sm.end()
    pieces.append((pos, end))
    for s, e in pieces:
        value = text[s:e]
        if not value:
            continue
        keep = _keep_segment(value) or (after_aws and bool(_SERVICE_SEGMENT.fullmatch(value)))
        after_aws = value == "aws"
        if not keep and SAFE.fullmatch(value) and re.fullmatch(r"[A-Za-z0-9_.+=@-]+", value):
            out.append((s, e, kind))
    return out


def first_label(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The account (12 digits) or account alias before ``.signin.aws.amazon.com``."""
    start, end = m.span("value")
    value = text[start:end]
    return [(start, end, "account" if ACCOUNT.fullmatch(value) else kind)]


def plan_change(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The new value in a Terraform plan change (``~ bucket = "a" -> "b"``) when the attribute names
    a resource: one of ``params["attributes"]`` or a label of the AWS identifier vocabulary. The old
    value is read by the detectors of ``label = "value"``; the new one has no label of its own."""
    label = m.group("label")
    if label not in params["attributes"] and not params["labels"].matches(words(label)):
        return []
    return context_value(text, m, params, kind)


def diff_rename(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The added value of a diff's removed / added pair of lines (``-  name = "a"``, ``+  name = "a-v2"``)
    when both have the same label, the new value is the old one extended (``-v2``, ``_new``, ``.2``)
    and the label names a resource (as ``plan_change``)."""
    old, value = m.group("old"), m.group("value")
    if (m.group("label2") != m.group("label") or len(value) <= len(old) or not value.startswith(old)
            or value[len(old)] not in "._-"):
        return []
    return plan_change(text, m, params, kind)


# --- a Terraform resource's import ID (session 11): `terraform import <address> <ID>`, an `import { to
# = ..., id = "..." }` block, and the ID Terraform's log prints for a resource (`[id=x]`, `Importing from
# ID "x"`). The ID is the resource's identifier, or the identifiers of its parent and itself joined by
# `/` or `:` (`<role>/<policy ARN>`, `<function>/<statement ID>`, `alias/<name>`, `<cluster>/<service>`).
_TF_NO_NAME = re.compile(r"[0-9]+|sgrule-[0-9]+|Z(?=[0-9A-Z]*[0-9])[0-9A-Z]{9,31}"
                         r"|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_TF_ZONE_RECORD = re.compile(r"Z(?=[0-9A-Z]*[0-9])[0-9A-Z]{9,31}_[A-Za-z0-9_.*-]+")
_TF_SEGMENT = re.compile(r"[^/:]+")


def terraform_import_id(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The names in a Terraform import ID. The first identifier (after a resource type AWS writes as a
    path, ``alias/``, ``table/``) is masked whatever its shape: the context says it is the resource's;
    a later one only when it holds a ``-`` or ``_`` (a child's name: ``<cluster>/<service>``), so a
    statement ID (``AllowExecutionFromS3Bucket``) stays. A Route 53 record's ID (``<zone>_<name>_<type>``)
    is masked whole: a pseudonym of its zone alone, glued to ``_<name>``, would not restore. What other
    detectors own is left to them: ARNs, URLs, EC2-family IDs (``sg-..._ingress_...``), zone IDs; and
    what names nothing: digits (a policy document's hash), UUIDs, Terraform's ``sgrule-`` hashes. With
    ``single_skip_types``, an ID of one part of those resource types is no name (a Lambda permission's
    ID is its statement ID)."""
    start, end = m.span("value")
    value = text[start:end].rstrip(".")
    end = start + len(value)
    if not value or not SAFE.fullmatch(value) \
            or value.startswith(("arn:", "http:", "https:", "$", "<", "var.", "local.")) or EC2_ID.match(value) \
            or _TF_NO_NAME.fullmatch(value) or nothing_secret(value):
        return []
    if _TF_ZONE_RECORD.fullmatch(value):
        return [(start, end, kind)]
    segments = [(s.start() + start, s.group()) for s in _TF_SEGMENT.finditer(value)]
    if len(segments) == 1 and m.groupdict().get("type") in params.get("single_skip_types", ()):
        return []
    types = params.get("id_path_types", ())
    out: list[Part] = []
    first = True
    for n, (pos, seg) in enumerate(segments):
        if seg == "arn":
            break   # an ARN's own parts: the ARN detector's
        if first and n + 1 < len(segments) and seg.lower() in types:
            continue
        if _keep_segment(seg) or not any(c.isalpha() for c in seg):
            first = False
            continue
        if first or (("-" in seg or "_" in seg) and name_shaped(seg) and not english_phrase(seg)):
            out.append((pos, pos + len(seg), kind))
        first = False
    return out


# --- the values of a block of KEY: value lines (a CodeBuild buildspec's env parameter-store: and
# secrets-manager:): SSM parameter names and secret IDs, segment by segment as context_value cuts paths.
_BLOCK_ENTRY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[ \t]*:[ \t]*(?:[\\\x00]*[\"'])?"
                          r"(?P<v>[A-Za-z0-9/_.][A-Za-z0-9._/:+=@-]{0,2047})")


def block_values(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """Each entry's value in a block of ``KEY: value`` lines: a parameter path per segment; a secret
    ID only up to its first ``:`` (``secret-id:json-key:stage``: the rest are the secret's keys and
    AWS's stage words). An ARN is the ARN detector's."""
    start, end = m.span("value")
    up_to_colon = params.get("up_to_colon", False)
    out: list[Part] = []
    for e in _BLOCK_ENTRY.finditer(text, start, end):
        v_start, v_end = e.span("v")
        value = text[v_start:v_end]
        if value.startswith("arn:"):
            continue
        if up_to_colon and ":" in value:
            v_end = v_start + value.index(":")
        out.extend(_path_parts(text, v_start, v_end, kind))
    return out


# A YAML list item that opens with its name ("- name: ng-1"), after a real line break or a JSON \n escape.
_LIST_ITEM_NAME = re.compile(r"(?:(?<=\n)|(?<=[\\\x00]n))(?P<ind>[ \t]*)-[ \t]+name:[ \t]*(?:[\\\x00]*[\"'])?"
                             r"(?P<v>[A-Za-z0-9][A-Za-z0-9_.-]{0,254})(?:[\\\x00]*[\"'])?[ \t]*"
                             r"(?=\r?\n|[\\\x00]+[rn]|$)")


def list_item_names(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The ``name`` of each item of a YAML list (the value: the list's lines), only at the items' own
    indentation: ``- name:`` lines nested deeper (an item's taints, tags, sub-lists) are not its items."""
    start, end = m.span("value")
    items = [(len(e.group("ind")), e) for e in _LIST_ITEM_NAME.finditer(text, start, end)]
    if not items:
        return []
    top = min(ind for ind, _ in items)
    return [(e.start("v"), e.end("v"), kind) for ind, e in items if ind == top and name_shaped(e.group("v"))]


# A host name in a labelled list (CORS origins, nginx server_name a b;): the label right before its
# top-level domain, as customer-domain-labelled masks one (shop.<x>.net); a label the detector lists as
# public (params.public: example, amazonaws, github, ...) passes, and so does a host under a top-level domain
# no registry sells (postgres.local, web.test, api.svc: compose aliases, cluster names).
_HOST_LABEL = re.compile(r"(?<![A-Za-z0-9_@.-])(?:\*\.)?(?:[a-z0-9-]{1,63}\.){0,8}?"
                         r"(?P<label>[a-z0-9][a-z0-9-]{2,62})\.(?!(?:local|localhost|internal|test|invalid|lan|svc)\b)"
                         r"(?P<tld>[a-z]{2,6})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])")


def domain_labels(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The label before the top-level domain of each host in the value (a list of origins or server
    names), unless that label is public (``x.github.io``; ``gitlab.<x>.net`` is the customer's) or
    the host ends in no real top-level domain (``params["tlds"]``, as ``customer_domain``: in code,
    ``aliases = kwargs.pop('aliases')`` ends in ``pop``)."""
    start, end = m.span("value")
    public = params.get("public", ())
    tlds = params["tlds"]
    return [(h.start("label"), h.end("label"), kind) for h in _HOST_LABEL.finditer(text, start, end)
            if h.group("label") not in public and h.group("tld") in tlds]


# --- the items of an indented YAML block (aws-nuke's configuration) -----------------------------------
# One line of the block: a list item (- x), a map key (x:) or a filter's value (value: x), quoted or
# not, an end-of-line comment after it.
_BLOCK_ITEM = re.compile(r"[ \t]*(?P<dash>-[ \t]+)?(?P<label>value:[ \t]+)?[\\\x00]*[\"']?"
                         r"(?P<v>[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,254})[\\\x00]*[\"']?[ \t]*"
                         r"(?:(?P<colon>:)(?:[ \t].*)?|(?:#.*)?)")


def yaml_block_items(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The items of an indented YAML block: with ``accounts``, every 12-digit list item or map key
    (aws-nuke's ``blocklist:`` / ``accounts:``); else the list items and ``value:`` entries that are
    name-shaped and no phrase (aws-nuke's ``filters:``: ``IAMRole: ["x"]``, ``- property: Name`` /
    ``value: x``), never a key, a glob or a path."""
    accounts = params.get("accounts", False)
    out: list[Part] = []
    for pos, line_end in line_spans(text, *m.span("value")):
        b = _BLOCK_ITEM.fullmatch(text, pos, line_end)
        if b is None:
            continue
        vs, ve = b.span("v")
        value = b.group("v")
        if accounts:
            if re.fullmatch(r"[0-9]{12}", value) and (b.group("dash") or b.group("colon")):
                out.append((vs, ve, "account"))
        elif (b.group("dash") or b.group("label")) and not b.group("colon") and name_shaped(value) \
                and not english_phrase(value) and not nothing_secret(value):
            out.append((vs, ve, kind))
    return out


_SPACE_CELL = re.compile(r"[^ \t\\]+")


def space_columns(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The cells of the columns ``params["columns"]`` (0-based) in each row of a table whose cells
    are runs of non-blanks (ONTAP's ``volume show``, where a long name pushes the next cells right,
    so only the order counts), name-shaped and no phrase."""
    wanted = set(params["columns"])
    out: list[Part] = []
    for pos, line_end in line_spans(text, *m.span("value")):
        for i, c in enumerate(_SPACE_CELL.finditer(text, pos, line_end)):
            if i in wanted and name_shaped(c.group()) and not english_phrase(c.group()) \
                    and not nothing_secret(c.group()):
                out.append((c.start(), c.end(), kind))
    return out


def email_domains(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The own label of each e-mail domain in group ``value`` (a mail or commit header's addresses)."""
    return email_domain_label(text, *m.span("value"), params["tlds"], kind)


# A CODEOWNERS rule: a path pattern, then owners (``@org/team``, ``@user`` or an e-mail).
_CODEOWNERS_RULE = re.compile(r"[ \t]*[^\s#@][^\s]{0,200}(?:[ \t]+(?:@[A-Za-z0-9_.-]{1,64}(?:/[A-Za-z0-9_.-]{1,64})?"
                              r"|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,200})){1,20}[ \t]*")


def codeowners_emails(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The own label of each owner's e-mail domain on the rule lines of a CODEOWNERS file."""
    out: list[Part] = []
    for s, e in line_spans(text, *m.span("value")):
        if _CODEOWNERS_RULE.fullmatch(text, s, e):
            out.extend(email_domain_label(text, s, e, params["tlds"], kind))
    return out


_EXTERNAL_ID_WORDS = frozenset("read write role aws".split())


def external_id_parts(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """An AssumeRole external ID: whole when it has no ``@``; else each part between ``@`` that holds
    a ``-``, ``_`` or digit and a letter (Spacelift's ``<account>@<stack>@<run>@write``)."""
    start, end = m.span("value")
    value = text[start:end]
    if not any(c.isdigit() or c in "-_" for c in value) or not SAFE.fullmatch(value):
        return []   # a word (required, unique): no ID
    if "@" not in value:
        return [(start, end, kind)]
    out: list[Part] = []
    pos = start
    for part in value.split("@"):
        if (part.lower() not in _EXTERNAL_ID_WORDS and len(part) >= 3 and any(c.isalpha() for c in part)
                and any(c.isdigit() or c in "-_" for c in part)):
            out.append((pos, pos + len(part), kind))
        pos += len(part) + 1
    return out


# An rclone path: ``remote:bucket/path`` or the on-the-fly ``:s3:bucket/path`` / ``:s3,provider=AWS:bucket``.
_RCLONE_PATH = re.compile(r"(?<![^\s\"'=])(?:[A-Za-z0-9_][A-Za-z0-9_.-]{1,63}|:[a-z0-9]{2,20}(?:,[^\s:]{1,200})?):"
                          r"(?P<b>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?=[/\s\"']|$)")


def rclone_buckets(text: str, m: re.Match, params: dict, kind: str) -> list[Part]:
    """The bucket (or top-level container) of each ``remote:bucket/path`` argument of an rclone
    command, when it is shaped like a name (a ``-`` or digit: ``gdrive:Photos`` passes)."""
    out: list[Part] = []
    for p in _RCLONE_PATH.finditer(text, *m.span("value")):
        bucket = p.group("b")
        if name_shaped(bucket) and not english_phrase(bucket):
            out.append((p.start("b"), p.end("b"), kind))
    return out


CONTEXT_SPLITTERS = {
    "labelled_account": labelled_account, "account_list": account_list, "account_rows": account_rows,
    "account_bullets": account_bullets, "secret_key": secret_key, "service_names": service_names,
    "table_columns": table_columns, "console_url": console_url, "first_label": first_label,
    "cli_query_columns": cli_query_columns, "plan_change": plan_change,
    "diff_rename": diff_rename, "block_values": block_values, "terraform_import_id": terraform_import_id,
    "list_item_names": list_item_names, "yaml_block_items": yaml_block_items, "space_columns": space_columns,
    "domain_labels": domain_labels, "customer_domain": customer_domain, "mail_identities": mail_identities,
    "email_domains": email_domains, "codeowners_emails": codeowners_emails, "rclone_buckets": rclone_buckets,
    "external_id_parts": external_id_parts,
}
