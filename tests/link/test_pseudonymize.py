"""Keyed pseudonyms: stable, keyed, equal to a direct HMAC, resistant to guessing, and linkable."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import monoculture
from monoculture.cli.app import app
from monoculture.errors import UsageError
from monoculture.link import pseudonymize as ps
from monoculture.spec import InferenceOptions

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_keygen_writes_a_private_32_byte_key(tmp_path):
    key = tmp_path / "audit.key"
    assert cli("keygen", "-o", str(key)).exit_code == 0
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert len(ps.load_key(key)) == 32
    assert cli("keygen", "-o", str(key)).exit_code == 2  # never overwritten silently
    (tmp_path / "short.key").write_text("00" * 16)
    with pytest.raises(UsageError, match="at least 32 are needed"):
        ps.load_key(tmp_path / "short.key")


def test_tokens_match_a_direct_hmac_and_depend_on_the_key():
    key, other = b"k" * 32, b"j" * 32
    want = hmac.new(key, b"A00042", hashlib.sha256).hexdigest()
    assert ps.token(key, ps.canonical_id(" A00042 ")) == want
    assert ps.token(other, "A00042") != want
    assert ps.canonical_id("  A\u0301bc ", casefold=True) == "\u00e1bc"  # NFC + trim + casefold
    assert ps.canonical_id(7) == "7" and ps.canonical_id("007") == "007"


def test_pseudonymised_files_link_like_the_raw_ones_and_tokens_are_stable(tmp_path):
    key_path = tmp_path / "k.key"
    ps.keygen(key_path)
    out = []
    for name in ("lender_a.csv", "lender_c.parquet", "lender_d.csv.gz"):
        dst = tmp_path / name.replace(".csv.gz", ".csv").replace(".", ".p.", 1)
        r = cli("pseudonymize", str(SAMPLE / name), "--id", "applicant_id", "--key-file", str(key_path),
                "-o", str(dst), "--drop", "score")
        assert r.exit_code == 0, r.output
        assert ps.load_key(key_path).hex() not in r.output
        out.append(str(dst))
    fast = InferenceOptions(bootstrap=0, permutations=0)
    raw = monoculture.audit([str(SAMPLE / n) for n in ("lender_a.csv", "lender_c.parquet", "lender_d.csv.gz")],
                            id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                            inference=fast)
    pseudo = monoculture.audit(out, id_column="applicant_id", decision="approved", label="repaid", groups=["race"],
                               inference=fast)
    assert pseudo.coverage.linked == raw.coverage.linked
    assert pseudo.overall.homogenization.value == pytest.approx(raw.overall.homogenization.value)
    assert "score" not in pq.read_schema(out[1]).names
    # Same key, same tokens, whatever file they come from.
    first = Path(out[0]).read_text().splitlines()[1].split(",")[0]
    again = tmp_path / "again.csv"
    cli("pseudonymize", str(SAMPLE / "lender_a.csv"), "--id", "applicant_id", "--key-file", str(key_path),
        "-o", str(again))
    assert again.read_text().splitlines()[1].split(",")[0] == first
    # The people failed by every decision-maker, as --emit-ids writes them: the tokens of the raw IDs
    # (pseudonymised IDs link through checked fingerprints, and decode back to their tokens).
    emitted = {}
    for kind, files in (("raw", [str(SAMPLE / n) for n in ("lender_a.csv", "lender_c.parquet", "lender_d.csv.gz")]),
                        ("pseudo", out)):
        emitted[kind] = tmp_path / f"{kind}.ids"
        monoculture.audit(files, id_column="applicant_id", decision="approved", label="repaid", inference=fast,
                          emit_ids=emitted[kind])
    key = ps.load_key(key_path)
    raw_ids = emitted["raw"].read_text().split()
    assert raw_ids and sorted(ps.token(key, ps.canonical_id(i)) for i in raw_ids) == sorted(
        emitted["pseudo"].read_text().split())


def test_dictionary_attack_without_the_key_finds_nothing(tmp_path):
    key = ps.load_key(_key(tmp_path))
    real = [f"A{j:05d}" for j in range(0, 5000, 7)]
    tokens = {ps.token(key, i) for i in real}
    # The attacker knows the ID format and tries all 10^6 plausible IDs (which include every real one),
    # unkeyed and under guessed keys.
    guesses = [f"A{j:05d}" for j in range(100_000)] + [f"{j:06d}" for j in range(900_000)]
    assert len(guesses) == 1_000_000
    guessed_keys = [b"\x00" * 32, b"monoculture" * 3]
    for g in guesses:
        digest = hashlib.sha256(g.encode()).hexdigest()
        assert digest not in tokens
    for k in guessed_keys:
        assert not any(ps.token(k, g) in tokens for g in guesses[:100_000])


def _key(tmp_path: Path) -> Path:
    p = tmp_path / "x.key"
    ps.keygen(p)
    return p


def test_blank_id_is_an_error_with_its_row(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text("id,decision\n1,0\n ,1\n")
    r = cli("pseudonymize", str(src), "--key-file", str(_key(tmp_path)), "-o", str(tmp_path / "o.csv"))
    assert r.exit_code == 2 and "line 3: blank ID" in r.output


def test_other_columns_pass_through_untouched(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text('id,decision,note\n1,1.0,"a, b"\n2,007,x\n')
    out = tmp_path / "o.csv"
    assert cli("pseudonymize", str(src), "--key-file", str(_key(tmp_path)), "-o", str(out)).exit_code == 0
    import csv

    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["decision"], r["note"]) for r in rows] == [("1.0", "a, b"), ("007", "x")]
    assert json.dumps(rows)  # plain text cells
