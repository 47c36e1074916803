"""Knowledge base: articles, full-text search, and drafts written from resolved tickets.

Search uses the database's own full-text engine: an FTS5 table ``knowledge_article_fts``
on SQLite and an expression GIN index on ``to_tsvector('english', search_text)`` on
PostgreSQL (both created by the migration). Neither segments Chinese, so
``search_text`` spells every run of CJK characters as overlapping bigrams ("洗衣机" →
"洗衣 衣机"), the classic CJK indexing trick, and queries are spelled the same way. The
FTS5 rows are kept in step with the articles by mapper events, whatever writes them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, event, func, select
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column

from engine.db import Base, is_sqlite
from engine.errors import NotFound
from engine.registry import HandlerContext, handler

from .idempotency import idempotent
from .values import required_text
from .warranty import get_model

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"\w+")
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "at", "be", "but", "by", "does", "for", "from", "has", "have", "i", "in", "is",
    "it", "its", "my", "not", "of", "on", "or", "the", "this", "to", "was", "what", "when", "with",
})
MAX_SUGGESTIONS = 5
EXCERPT_CHARS = 160


class Article(Base):
    """A knowledge-base article: published for agents, or a draft from a resolved ticket."""

    __tablename__ = "knowledge_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    product_line: Mapped[str | None] = mapped_column(String(32), index=True)
    model: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="published", index=True)
    source_ticket: Mapped[str | None] = mapped_column(String(32), index=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Deflection(Base):
    """A customer who said an article solved their problem before they sent a request."""

    __tablename__ = "knowledge_deflection"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_article.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(index=True)


def spell_for_search(value: str) -> str:
    """Return ``value`` with every CJK run written as overlapping bigrams, words kept."""

    def bigrams(match: re.Match[str]) -> str:
        run = match.group(0)
        grams = [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
        return " " + " ".join(grams) + " "

    return CJK_RUN.sub(bigrams, value)


def query_terms(value: str) -> list[str]:
    """Return the distinct search terms of a query: words without stop words, CJK bigrams."""
    terms: list[str] = []
    for word in WORD.findall(spell_for_search(value).lower()):
        if word.isascii() and (word in STOP_WORDS or len(word) < 2 or word.isdigit() and len(word) < 3):
            continue
        if word not in terms:
            terms.append(word)
    return terms


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@event.listens_for(Article, "before_insert")
@event.listens_for(Article, "before_update")
def _spell(_mapper: Mapper[Article], _conn: Connection, article: Article) -> None:
    article.search_text = spell_for_search(f"{article.title}\n{article.title}\n{article.body}")


@event.listens_for(Article, "after_insert")
@event.listens_for(Article, "after_update")
def _index(_mapper: Mapper[Article], conn: Connection, article: Article) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(sql("DELETE FROM knowledge_article_fts WHERE rowid = :id"), {"id": article.id})
        conn.execute(sql("INSERT INTO knowledge_article_fts (rowid, search_text) VALUES (:id, :t)"),
                     {"id": article.id, "t": article.search_text})


@event.listens_for(Article, "after_delete")
def _unindex(_mapper: Mapper[Article], conn: Connection, article: Article) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(sql("DELETE FROM knowledge_article_fts WHERE rowid = :id"), {"id": article.id})


def search(session: Session, query: str, limit: int = 20) -> list[tuple[int, float]]:
    """Return ``(article id, relevance)`` of published articles matching any query term, best first."""
    terms = query_terms(query)
    if not terms:
        return []
    if is_sqlite(session):
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = session.execute(sql(
            "SELECT a.id, -bm25(knowledge_article_fts) AS relevance FROM knowledge_article_fts "
            "JOIN knowledge_article a ON a.id = knowledge_article_fts.rowid "
            "WHERE knowledge_article_fts MATCH :match AND a.status = 'published' "
            "ORDER BY relevance DESC, a.id LIMIT :limit"), {"match": match, "limit": limit})
    else:
        rows = session.execute(sql(
            "SELECT a.id, ts_rank(to_tsvector('english', a.search_text), q.query) AS relevance "
            "FROM knowledge_article a, "
            "(SELECT replace(plainto_tsquery('english', :query)::text, '&', '|')::tsquery AS query) q "
            "WHERE to_tsvector('english', a.search_text) @@ q.query AND a.status = 'published' "
            "ORDER BY relevance DESC, a.id LIMIT :limit"), {"query": " ".join(terms), "limit": limit})
    return [(int(i), float(r)) for i, r in rows]


def _excerpt(body: str, matched: list[str]) -> str:
    lowered = body.lower()
    positions = [p for p in (lowered.find(t) for t in matched) if p >= 0]
    start = max(0, min(positions) - 40) if positions else 0
    piece = body[start:start + EXCERPT_CHARS].strip()
    return ("…" if start else "") + piece + ("…" if start + EXCERPT_CHARS < len(body) else "")


def _matched_terms(article: Article, terms: list[str]) -> list[str]:
    words = {_stem(w) for w in WORD.findall(article.search_text.lower())}
    return [t for t in terms if _stem(t) in words]


@handler("knowledge.suggest")
def suggest(ctx: HandlerContext, text: str, model: str) -> dict[str, Any]:
    """Suggest knowledge-base articles for a fault description, ranked, with reasons.

    text: the fault description to search the knowledge base for (free text)
    model: the product's model code; articles for its product line rank higher, empty for all
    """
    return {"articles": rank(ctx.session, text, model)}


def rank(session: Session, text: str, model: str, limit: int = MAX_SUGGESTIONS) -> list[dict[str, Any]]:
    """Return published articles for a fault description and model, best first, with reasons."""
    query = text if isinstance(text, str) else ""
    found = get_model(session, model) if isinstance(model, str) and model.strip() else None
    hits = search(session, query, limit=limit * 4)
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_([i for i, _ in hits])))}
    terms = query_terms(query)
    ranked: list[dict[str, Any]] = []
    for article_id, relevance in hits:
        article = articles[article_id]
        if found and article.product_line not in (None, found.product_line):
            continue
        matched = _matched_terms(article, terms)
        reasons = [f"matches {', '.join(repr(t) for t in matched)}"] if matched else []
        boost = 1.0
        if found and article.model == found.code:
            boost, reason = 1.5, f"written for model {found.code}"
        elif found and article.product_line == found.product_line:
            boost, reason = 1.2, f"same product line ({found.product_line})"
        else:
            reason = "general article" if article.product_line is None else f"product line {article.product_line}"
        reasons.append(reason)
        ranked.append({"id": article.id, "title": article.title, "excerpt": _excerpt(article.body, matched),
                       "score": round(relevance * boost, 4), "language": article.language,
                       "reasons": reasons})
    ranked.sort(key=lambda a: (-a["score"], a["id"]))
    return ranked[:limit]


def published_article(session: Session, article_id: int) -> Article:
    """Return a published article, or raise :class:`NotFound` (drafts are for staff only)."""
    article = session.get(Article, article_id)
    if article is None or article.status != "published":
        raise NotFound("knowledge article {article_id} does not exist",
                       field="article", params={"article_id": article_id})
    return article


def record_deflection(session: Session, article_id: int, model: str, language: str, now: datetime) -> Deflection:
    """Count a customer whose problem an article solved before any ticket was opened."""
    published_article(session, article_id)
    found = get_model(session, model) if isinstance(model, str) and model.strip() else None
    deflection = Deflection(article_id=article_id, model=found.code if found else "",
                            language=language if language in ("en", "zh") else "en", created_at=now)
    session.add(deflection)
    session.flush()
    return deflection


def deflection_counts(session: Session, since: datetime) -> dict[str, Any]:
    """Return how many requests articles deflected since ``since``, in all and per article (most first)."""
    rows = session.execute(
        select(Article.id, Article.title, func.count(Deflection.id))
        .join(Deflection, Deflection.article_id == Article.id).where(Deflection.created_at >= since)
        .group_by(Article.id, Article.title).order_by(func.count(Deflection.id).desc(), Article.id))
    articles = [{"id": i, "title": t, "count": int(c)} for i, t, c in rows]
    return {"total": sum(a["count"] for a in articles), "articles": articles}


def language_of(value: str) -> str:
    """Return ``zh`` when ``value`` contains Chinese characters, else ``en``."""
    return "zh" if CJK_RUN.search(value) else "en"


@handler("knowledge.draft_article")
@idempotent
def draft_article(ctx: HandlerContext, ticket_number: str, title: str, problem: str, resolution: str,
                  model: str) -> dict[str, Any]:
    """Turn a resolved ticket into a knowledge-base article draft for review.

    ticket_number: the number of the resolved ticket the article comes from, e.g. AS-20260302-00001
    title: the article's title, at most 300 characters
    problem: the problem as the customer saw it, at most 5000 characters
    resolution: what fixed it, at most 5000 characters
    model: the product's model code; sets the article's model and product line, empty for a general article
    """
    heading = required_text(title, "title", 300)
    problem_text = required_text(problem, "problem", 5000)
    resolution_text = required_text(resolution, "resolution", 5000)
    found = get_model(ctx.session, model) if isinstance(model, str) and model.strip() else None
    chinese = language_of(heading + problem_text + resolution_text) == "zh"
    labels = ("问题", "解决方法") if chinese else ("Problem", "Resolution")
    article = Article(title=heading, body=f"{labels[0]}: {problem_text}\n\n{labels[1]}: {resolution_text}",
                      product_line=found.product_line if found else None, model=found.code if found else None,
                      language="zh" if chinese else "en", status="draft",
                      source_ticket=required_text(ticket_number, "ticket_number", 32),
                      created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(article)
    ctx.session.flush()
    return {"article_id": article.id}


def publish_article(session: Session, article_id: int, now: datetime) -> Article:
    """Publish a draft so that agents get it suggested."""
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound("knowledge article {article_id} does not exist", params={"article_id": article_id})
    article.status, article.updated_at = "published", now
    session.flush()
    return article


def load_articles(session: Session, records: list[dict[str, Any]], now: datetime) -> int:
    """Insert or update published articles by their code."""
    for item in records:
        article = session.scalars(select(Article).where(Article.code == item["code"])).one_or_none()
        if article is None:
            article = Article(code=item["code"], created_at=now)
            session.add(article)
        wanted = {"title": item["title"], "body": item["body"], "language": item["language"],
                  "product_line": item.get("product_line"), "model": item.get("model"), "status": "published"}
        if any(getattr(article, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(article, key, value)
            article.updated_at = now
    session.flush()
    return len(records)
