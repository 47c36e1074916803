"""The names the bundles give their elements (``reserve_stock`` → "Reserve the parts"), for pages that hold
an element's id only (a ledger row written by a process step, an instance waiting at a task)."""

from __future__ import annotations

from functools import lru_cache
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import DeploymentFile


def element_names(session: Session, deployment_id: int | None = None) -> dict[str, str]:
    """Return element id → its English name: of one deployment, or of every deployment (a newer one's
    name winning). Elements without a name are left out (a page shows those as it can, or not at all)."""
    query = select(DeploymentFile.deployment_id).where(DeploymentFile.path.like("%.bpmn")).distinct()
    if deployment_id is not None:
        query = query.where(DeploymentFile.deployment_id == deployment_id)
    url = str(session.get_bind().engine.url)  # the in-process cache is the database's own
    names: dict[str, str] = {}
    for deployment in sorted(session.scalars(query)):
        names.update(_names(session, url, deployment))
    return names


#: each deployment's names, by database and deployment (a deployment's files never change once deployed)
_CACHE: dict[tuple[str, int], dict[str, str]] = {}


def _names(session: Session, url: str, deployment_id: int) -> dict[str, str]:
    key = (url, deployment_id)
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = _read(session, deployment_id)
    return _CACHE[key]


def _read(session: Session, deployment_id: int) -> dict[str, str]:
    names: dict[str, str] = {}
    files = session.scalars(select(DeploymentFile.content).where(DeploymentFile.deployment_id == deployment_id,
                                                                 DeploymentFile.path.like("%.bpmn")))
    for content in files:
        names.update(_parse(bytes(content)))
    return names


@lru_cache(maxsize=64)
def _parse(content: bytes) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 (a deployed bundle's own file, validated at deploy)
    except ElementTree.ParseError:
        return {}
    return {el.attrib["id"]: " ".join(el.attrib["name"].split()) for el in root.iter()
            if el.attrib.get("id") and el.attrib.get("name", "").strip()}
