"""The routing table as Kamailio's `drouting` module loads it from `db_text` files.

One table file per `drouting` table, in the `db_text` format (Kamailio's db_text README,
"Internal format of a dbtext table"; headers as the templates in Kamailio's
utils/kamctl/dbtext/kamailio/): a first line of `name(type[,null|,auto])` column
definitions, then one row a line, fields separated by `:`, with `\\`, `:`, newline,
carriage return, tab and NUL escaped. An empty field is NULL, so no NOT NULL column is
left empty. The mapping (docs/ROUTING.md):

- `dr_groups`: one row per preselected line, username = the 8-digit number, group =
  the operator's carrier selection code and the option (`15NN` * 10 + 1 ALL,
  2 NATIONAL, 3 INTERNATIONAL). `do_routing()` without a group looks the caller up here;
  a line not in the table gets no group and keeps the incumbent's routing.
- `dr_gateways`: gateway 1 is the incumbent's own onward route; gateway `15NN` is the
  same next hop with the operator's carrier selection code as its PRI prefix, so a
  preselected call continues exactly as if the subscriber had dialled `15NN` first.
- `dr_rules`: per group, a rule per leading digits of the dialled number, to the
  operator's gateway or the incumbent's: numbers starting with 1 (short numbers,
  emergency, the 15NN codes themselves) always stay with the incumbent; `00`
  (international, but `0047` is national) goes to the operator under ALL and
  INTERNATIONAL; everything else is national and goes to the operator under ALL and
  NATIONAL. The time recurrence is a start date with no duration, which drouting takes
  as "for ever".
- `dr_gw_lists` is empty; `version` names the table versions these headers are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from forvalg.domain.orders import Option
from forvalg.domain.routing_table import RoutingRow

# Kamailio's utils/kamctl/dbtext/kamailio/ templates for these tables.
HEADERS = {
    "dr_gateways": (
        "gwid(int,auto) type(int) address(string) strip(int) pri_prefix(string,null) "
        "attrs(string,null) description(string) "
    ),
    "dr_groups": "id(int,auto) username(string) domain(string) groupid(int) description(string) ",
    "dr_gw_lists": "id(int,auto) gwlist(string) description(string) ",
    "dr_rules": (
        "ruleid(int,auto) groupid(string) prefix(string) timerec(string) priority(int) "
        "routeid(string) gwlist(string) description(string) "
    ),
    "version": "id(int,auto) table_name(string) table_version(int)",
}
TABLE_VERSIONS = {"dr_gateways": 3, "dr_groups": 2, "dr_gw_lists": 1, "dr_rules": 3}

INCUMBENT_GATEWAY = 1
ALWAYS = "20000101T000000"  # a start date and no duration: in force for ever
OPTION_DIGIT = {Option.ALL: 1, Option.NATIONAL: 2, Option.INTERNATIONAL: 3}

# (dialled prefix, what it is, the options under which the operator carries it)
PREFIXES: tuple[tuple[str, str, frozenset[Option]], ...] = (
    ("1", "short numbers, emergency, carrier selection codes", frozenset()),
    ("00", "international", frozenset({Option.ALL, Option.INTERNATIONAL})),
    ("0047", "national, dialled with +47", frozenset({Option.ALL, Option.NATIONAL})),
    ("0", "national 5-digit services", frozenset({Option.ALL, Option.NATIONAL})),
    *((str(d), "national numbers", frozenset({Option.ALL, Option.NATIONAL})) for d in range(2, 10)),
)


def group_id(csc: str, option: Option) -> int:
    return int(csc) * 10 + OPTION_DIGIT[option]


def escape(value: str) -> str:
    """A db_text string field: backslash, the delimiter and control characters escaped."""
    for raw, escaped in (
        ("\\", "\\\\"),
        (":", "\\:"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\0", "\\0"),
    ):
        value = value.replace(raw, escaped)
    return value


def _table(name: str, rows: Iterable[Sequence[int | str | None]]) -> str:
    lines = [HEADERS[name]]
    for row in rows:
        fields = ["" if v is None else str(v) if isinstance(v, int) else escape(v) for v in row]
        lines.append(":".join(fields))
    return "\n".join(lines) + "\n"


def tables(
    rows: Sequence[RoutingRow], carriers: Mapping[str, str], *, gateway: str, domain: str
) -> dict[str, str]:
    """The db_text files (name -> content) that route `rows` through Kamailio drouting.
    `carriers` maps operator ids to carrier selection codes; `gateway` is the next hop
    (`host[:port]`) and `domain` the SIP domain of the lines' From URIs."""
    if not gateway or not domain:
        raise ValueError("the gateway and the SIP domain must not be empty")
    used = sorted({(r.operator_id, r.option) for r in rows})
    operators = sorted({operator for operator, _ in used}, key=lambda o: int(carriers[o]))
    gateways: list[Sequence[int | str | None]] = [
        (INCUMBENT_GATEWAY, 0, gateway, 0, None, None, "incumbent")
    ]
    for operator in operators:
        csc = carriers[operator]
        gateways.append(
            (int(csc), 1, gateway, 0, csc, operator, f"{operator}: carrier selection code {csc}")
        )
    rules: list[Sequence[int | str | None]] = []
    for operator, option in sorted(used, key=lambda u: group_id(carriers[u[0]], u[1])):
        group = group_id(carriers[operator], option)
        for i, (prefix, what, carried) in enumerate(PREFIXES):
            to = int(carriers[operator]) if option in carried else INCUMBENT_GATEWAY
            who = operator if option in carried else "incumbent"
            rules.append(
                (group * 100 + i, str(group), prefix, ALWAYS, 0, "0", str(to), f"{what}: {who}")
            )
    groups = [
        (i, r.number, domain, group_id(carriers[r.operator_id], r.option), r.operator_id)
        for i, r in enumerate(rows, start=1)
    ]
    versions = [(0, "version", 1), *((0, name, v) for name, v in TABLE_VERSIONS.items())]
    return {
        "version": _table("version", versions),
        "dr_gateways": _table("dr_gateways", gateways),
        "dr_gw_lists": _table("dr_gw_lists", []),
        "dr_rules": _table("dr_rules", rules),
        "dr_groups": _table("dr_groups", groups),
    }
