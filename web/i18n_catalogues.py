"""The gettext catalogues of the web app: ``web/translations/<lang>/LC_MESSAGES/*.po``.

Two domains, as Django has them: ``messages`` for the templates and Python views (msgids are
the English text; ``{name}`` placeholders are ``python-brace-format``; coded keys such as
``state:closed`` have English text in the ``en`` catalogue too) and ``js`` for the texts the
browser scripts show, which a page receives as JSON. ``babel.cfg`` tells ``pybabel extract``
where each domain's texts are.

``scripts/install`` compiles the ``.po`` files into ``.mo`` files (``python -m
web.i18n_catalogues``); a catalogue whose ``.mo`` is missing or older than its ``.po`` is
compiled again when it is first loaded, so an edited catalogue is never read stale.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("en", "zh")
DOMAINS = ("messages", "js")


def po_path(language: str, domain: str = "messages") -> Path:
    """Return where the ``.po`` file of ``language`` and ``domain`` lives."""
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{domain}.po"


def read_catalogue(language: str, domain: str = "messages") -> Catalog:
    """Parse one ``.po`` file (an empty catalogue when the language has none for the domain)."""
    path = po_path(language, domain)
    if not path.exists():
        return Catalog(locale=language, domain=domain)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=domain)


def catalogue(language: str, domain: str = "messages") -> dict[str, str]:
    """Return the translated texts of one catalogue as ``{msgid: msgstr}`` (untranslated left out)."""
    return {str(m.id): str(m.string) for m in read_catalogue(language, domain)
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def compile_catalogue(language: str, domain: str, force: bool = False) -> bool:
    """Write the ``.mo`` of one ``.po`` when it is missing or older; tell whether it wrote."""
    po = po_path(language, domain)
    mo = po.with_suffix(".mo")
    if not po.exists() or (not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
        return False
    partial = mo.with_name(f"{mo.name}.{os.getpid()}.tmp")  # several processes may compile at once
    with partial.open("wb") as handle:
        write_mo(handle, read_catalogue(language, domain), use_fuzzy=False)
    os.replace(partial, mo)
    return True


def compile_all(force: bool = False) -> list[Path]:
    """Compile every catalogue that needs it; return the ``.mo`` files written."""
    return [po_path(language, domain).with_suffix(".mo") for language in LANGUAGES for domain in DOMAINS
            if compile_catalogue(language, domain, force)]


@functools.cache
def _loaded(language: str, domain: str, stamp: float) -> Translations:
    del stamp  # part of the cache key only: an edited catalogue is loaded again
    compile_catalogue(language, domain)
    found = Translations.load(str(TRANSLATIONS), [language], domain=domain)
    return found if isinstance(found, Translations) else Translations(domain=domain)


def translations(language: str, domain: str = "messages") -> Translations:
    """Return the compiled gettext translations of ``language`` (cached until its ``.po`` changes)."""
    po = po_path(language, domain)
    return _loaded(language, domain, po.stat().st_mtime if po.exists() else 0.0)


def texts(language: str, domain: str = "messages") -> dict[str, str]:
    """Return the translated texts of ``language`` as a dictionary (what a page's scripts receive)."""
    return {key: value for key, value in translations(language, domain)._catalog.items()
            if isinstance(key, str) and key}


if __name__ == "__main__":
    for written in compile_all():
        print(f"i18n: compiled {written.relative_to(TRANSLATIONS.parent.parent)}")
