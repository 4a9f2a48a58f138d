"""`gridhub config check` on files that are not a site: one clear line, exit 2, never a
traceback — binary, huge, endless, nested thousands deep, alias bombs, repeated keys."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hub.cli import main
from hub.infra.site_yaml import MAX_SITE_FILE_BYTES

LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join(['*' + chr(96 + i)] * 10)}]"
       for i in range(1, 9)]
    + ["site: {name: x}"]
)  # fmt: skip

CASES: list[tuple[str, bytes, str]] = [
    # (name, content, what the error says)
    ("binary", bytes(range(256)) * 4, "not UTF-8 text (byte 0x80 at offset 128)"),
    ("control character", b"site:\n  name: \x01\n", "character U+0001 is not allowed"),
    ("broken YAML", b"site: {name: x\ngrids: [", "line 2, column 6: not valid YAML"),
    ("nested too deeply", b"a: " + b"[" * 600 + b"]" * 600, "nested too deeply"),
    ("alias bomb", LAUGHS.encode(), "more than 5,000,000 values once YAML aliases are expanded"),
    ("repeated key", b"site: {name: x}\ngrids: []\nsite: {name: y}\n",
     "line 3, column 1: not valid YAML: duplicate key 'site'"),
    ("python tag", b"!!python/object/apply:os.system [true]", "could not determine a constructor"),
    ("not a mapping", b"- a\n- list\n", "the top level must be a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_file_that_is_not_a_site_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, says: str
) -> None:
    path = tmp_path / "site.yaml"
    path.write_bytes(content)
    started = time.monotonic()
    assert main(["config", "check", str(path)]) == 2, name
    err = capsys.readouterr().err
    assert err.startswith(f"gridhub: error: {path}: ") and says in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert time.monotonic() - started < 30  # a bomb costs no more than its limit


def test_a_huge_file_is_refused_before_it_is_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"site: {name: x}\n#" + b"x" * MAX_SITE_FILE_BYTES)
    assert main(["config", "check", str(path)]) == 2
    assert "larger than 16 MiB; is this the site file?" in capsys.readouterr().err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_an_endless_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "/dev/zero"]) == 2
    assert "/dev/zero: larger than 16 MiB" in capsys.readouterr().err


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path)]) == 2
    assert f"{tmp_path}: cannot read: Is a directory" in capsys.readouterr().err


def test_a_merge_key_may_be_overridden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`<<: *base` then a key of its own is YAML's override, not a repeated key."""
    path = tmp_path / "site.yaml"
    path.write_text("site: {name: x}\nbase: &b {a: 1}\nother:\n  <<: *b\n  a: 2\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "duplicate" not in err and "other: Extra inputs are not permitted" in err
