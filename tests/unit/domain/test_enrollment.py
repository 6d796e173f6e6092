"""Bulk import parsing: every bad row named with its line, YAML read safely."""

from __future__ import annotations

from domain.enrollment import MAX_ALIASES, InvalidImport, parse_import


def _problems(text: str, fmt: str) -> list[str]:
    try:
        _, errors = parse_import(text, fmt)  # type: ignore[arg-type]
    except InvalidImport as refused:
        errors = refused.errors
    return [str(e) for e in errors]


def test_csv_rows_with_optional_columns() -> None:
    rows, _ = parse_import(
        "address,site,cluster,labels,credential_profile,service_tag\n"
        "10.1.0.5,ams,prod,env=prod;rack=R12,idrac-ams,abc1234\n"
        "idrac-07.Example.test,,,,,\n",
        "csv",
    )
    assert [(r.line, r.address) for r in rows] == [(2, "10.1.0.5"), (3, "idrac-07.example.test")]
    assert rows[0].labels == {"env": "prod", "rack": "R12"}
    assert (rows[0].site, rows[0].cluster, rows[0].service_tag) == ("ams", "prod", "ABC1234")
    assert rows[1].site is None and rows[1].labels == {}


def test_every_bad_csv_row_is_named() -> None:
    text = (
        "address,labels,service_tag\n"
        "10.1.0.5,,\n"
        "10.1.0.300,,\n"
        ",,\n"
        "10.1.0.5,,\n"
        "10.1.0.6,env,\n"
        "10.1.0.7,,TOOLONGTAG\n"
        "10.1.0.8,,,extra\n"
    )
    assert _problems(text, "csv") == [
        "line 3: address: is not an IP address or host name",
        "line 4: address: missing",
        "line 5: address: 10.1.0.5 already on line 2",
        "line 6: labels: must be key=value pairs (CSV: env=prod;rack=R12)",
        "line 7: service_tag: a Dell service tag is 7 letters or digits",
        "line 8: more cells than the header has columns",
    ]


def test_csv_header_must_name_known_columns() -> None:
    assert _problems("ip,site\n10.0.0.1,ams\n", "csv") == [
        "line 1: unknown columns ['ip'] (known: address, service_tag, site, cluster, "
        "esxi_host, labels, credential_profile)"
    ]


def test_yaml_list_or_idracs_key_with_lines() -> None:
    text = "idracs:\n  - address: 10.2.0.1\n    labels: {env: lab}\n  - {address: 10.2.0.2}\n"
    rows, _ = parse_import(text, "yaml")
    assert [(r.line, r.address, r.labels) for r in rows] == [
        (2, "10.2.0.1", {"env": "lab"}),
        (4, "10.2.0.2", {}),
    ]
    assert _problems("- address: 10.2.0.1\n  rack: 7\n- address: [1]\n", "yaml") == [
        "line 1: unknown fields ['rack'] (known: address, service_tag, site, cluster, "
        "esxi_host, labels, credential_profile)",
        "line 3: address: must be text",
    ]


def test_yaml_alias_bombs_and_unsafe_tags_are_refused() -> None:
    bomb = "a: &a [x, x]\n" + "".join(
        f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i - 1}'}, *{'a' if i == 0 else f'b{i - 1}'}]\n"
        for i in range(MAX_ALIASES)
    )
    problems = _problems(bomb, "yaml")
    assert len(problems) == 1 and f"more than {MAX_ALIASES} YAML aliases" in problems[0]
    assert _problems("- !!python/object/apply:os.system [true]\n", "yaml") == [
        "line 1: not valid YAML"
    ]
    assert _problems("- address: 10.0.0.1\n  site: [unclosed\n", "yaml")[0].startswith("line ")
    assert _problems("\x12- address: 10.0.0.1\n", "yaml") == [
        "file: not valid YAML (control characters)"
    ]


def test_csv_line_ends_of_every_kind_are_read_and_broken_csv_is_named() -> None:
    """Found by schemathesis: a lone carriage return gave a 500 (an uncaught csv.Error)."""
    for text in ("address\r10.0.0.1\r10.0.0.2\r", "address\r\n10.0.0.1\r\n10.0.0.2\r\n"):
        rows, errors = parse_import(text, "csv")
        assert ([r.address for r in rows], errors) == (["10.0.0.1", "10.0.0.2"], [])
    too_big = "address\n" + "x" * 200_000 + "\n"  # beyond the csv module's field limit
    try:
        parse_import(too_big, "csv")
    except InvalidImport as exc:
        assert [(e.line, e.problem.split(":")[0]) for e in exc.errors] == [(2, "not valid CSV")]
    else:
        raise AssertionError("a field beyond the csv limit was accepted")
