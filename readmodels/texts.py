"""What a reader sees for the process's and the catalogue's words, in their language.

Task, stage, lane and element names, form texts and instructions come from the bundle's
``translations.<lang>.json`` (:func:`readmodels.tickets.bundle_texts`); product models,
parts, symptoms, knowledge articles, skills, regions and diagnosis causes from the
catalogue data (``<field>_<lang>`` beside each English field, :func:`handlers.demo.catalogue_texts`).
Pages put the result in front of their translation lookup (``web.i18n.use_bundle_texts``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import DeploymentFile
from handlers.demo import catalogue_texts

from .tickets import bundle_texts


def reader_texts(session: Session, language: str, data_dir: Path, deployment_id: int | None = None) -> dict[str, str]:
    """Return English text → what a reader in ``language`` sees, for one deployment or for all.

    Without ``deployment_id`` (a tasklist mixes versions) every deployed bundle's
    translations count, a newer deployment's words winning over an older one's.
    """
    texts = catalogue_texts(data_dir, language) if data_dir.is_dir() else {}
    if language == "en":
        return texts
    if deployment_id is not None:
        return {**texts, **bundle_texts(session, deployment_id, language)}
    ids = session.scalars(select(DeploymentFile.deployment_id)
                          .where(DeploymentFile.path == f"translations.{language}.json")
                          .order_by(DeploymentFile.deployment_id))
    for deployment in ids:
        texts.update(bundle_texts(session, deployment, language))
    return texts
