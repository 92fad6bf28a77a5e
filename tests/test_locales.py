"""Catalogs: every message translated in zh_CN and en; messages.pot up to date."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _catalog(locale: str):
    with open(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_pot_is_up_to_date(tmp_path):
    out = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(BIN / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(out),
            "--no-location",
            "--sort-output",
            "backend",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with open(out, "rb") as f:
        fresh = {m.id for m in read_po(f) if m.id}
    with open(ROOT / "locales" / "messages.pot", "rb") as f:
        committed = {m.id for m in read_po(f) if m.id}
    assert fresh == committed, "run `make messages` and translate the new strings"


def test_zh_cn_translates_every_message():
    with open(ROOT / "locales" / "messages.pot", "rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    zh = _catalog("zh_CN")
    missing = sorted(str(i) for i in ids if not (zh.get(i) and zh.get(i).string))
    assert not missing, f"untranslated in zh_CN: {missing[:10]}"
    fuzzy = sorted(str(m.id) for m in zh if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy in zh_CN: {fuzzy[:10]}"


def test_catalogs_compile(tmp_path):
    for locale in ("zh_CN", "en"):
        r = subprocess.run(
            [
                str(BIN / "pybabel"),
                "compile",
                "-i",
                str(ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"),
                "-o",
                str(tmp_path / f"{locale}.mo"),
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
