"""The one exception tree of aftersales.

Every error a user, an API client or an operator can see is one of these. Each class
knows how it is shown: an HTTP status and a CLI exit code, handled in one place (the
web error handler and the CLI's main). Third-party errors (SpiffWorkflow, lxml,
SQLAlchemy, jsonschema) are translated at the boundary with ``raise ... from exc``.

    AftersalesError
    ├── ConfigError                     bad or missing configuration
    ├── NotFound                        unknown instance, task, process, deployment …
    ├── PermissionDenied                the user's roles don't allow this
    │   └── DutiesSeparated             the user did an earlier task this one must check (four eyes)
    ├── InvalidInput                    a request that is wrong in itself
    │   ├── FormValidationError         form data fails its JSON Schema (field errors)
    │   └── DeploymentInvalid           a bundle fails validation or lint (problems)
    ├── Conflict                        the state moved on under the request
    │   ├── TaskNotReady                the task was completed / cancelled already
    │   ├── TaskClaimed                 somebody else holds the task
    │   ├── ConcurrentUpdate            another trigger changed the instance first
    │   ├── InstanceEnded               the instance has completed or was cancelled
    │   └── MessageNotCorrelated        nobody waits for this message and key
    ├── ScriptError                     a BPMN script or expression failed or was refused
    ├── DeliveryLoop                    messages or signals between instances chain in a loop
    ├── HandlerError                    a service handler is missing or misbehaved
    ├── IncidentError                   an instance stopped on an incident
    └── StoreUnavailable                the database cannot be reached
"""

from __future__ import annotations

from dataclasses import dataclass, field
from gettext import NullTranslations
from typing import Any


class AftersalesError(Exception):
    """Raised for every failure aftersales reports to a person or a client.

    ``message`` is English. With ``params`` it is a template (``"Task {task} is held by
    {user}"``) filled with them: the web layer then says it in the reader's language from
    the gettext catalogue, keyed by the template, and the API and CLI print the code, the
    English message and the parameters. With ``plural`` too, the template counts
    ``params["count"]`` the gettext way (``message`` singular, ``plural`` plural; ngettext).
    """

    http_status = 500
    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, params: dict[str, Any] | None = None, plural: str | None = None,
                 **details: Any) -> None:
        self.template = message if params is not None else None
        self.plural = plural if params is not None else None
        self.params = dict(params or {})
        english = NullTranslations().ngettext(message, plural, int(self.params.get("count", 1))) if self.plural \
            else message
        self.message = english.format(**self.params) if params is not None else message
        super().__init__(self.message)
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """Return the error as the JSON body the API and CLI print."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.params:
            body["params"] = {k: v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
                              for k, v in self.params.items()}
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body


class ConfigError(AftersalesError):
    """Raised when a setting is missing or malformed."""

    code = "config_error"
    exit_code = 78


class NotFound(AftersalesError):
    """Raised when an instance, task, process, deployment or record does not exist."""

    http_status = 404
    exit_code = 4
    code = "not_found"


class PermissionDenied(AftersalesError):
    """Raised when the user's roles do not allow the action (e.g. a task of another lane)."""

    http_status = 403
    exit_code = 3
    code = "forbidden"


class DutiesSeparated(PermissionDenied):
    """Raised when a user would do a task after an earlier task of the instance it excludes them from."""

    code = "duties_separated"


class InvalidInput(AftersalesError):
    """Raised when a request is wrong in itself (bad JSON, unknown option, bad value)."""

    http_status = 400
    exit_code = 2
    code = "invalid_input"


@dataclass(frozen=True)
class FieldError:
    """One field of a form or request body that failed validation.

    ``message`` is English; with a ``template`` (``"at most {limit} characters"``) and its ``values``
    a page says it in the reader's language, as :class:`AftersalesError` does with ``params``.
    """

    field: str
    message: str
    template: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, field_name: str, template: str, **values: Any) -> FieldError:
        """Return the error of ``field_name`` whose message is ``template`` filled with ``values``."""
        return cls(field_name, template.format(**values), template, values)

    def to_dict(self) -> dict[str, str]:
        """Return the error as a JSON-able mapping."""
        return {"field": self.field, "message": self.message}


class FormValidationError(InvalidInput):
    """Raised when submitted form data does not satisfy the task's JSON Schema."""

    http_status = 422
    code = "validation_failed"

    def __init__(self, message: str, errors: list[FieldError], **details: Any) -> None:
        super().__init__(message, **details)
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["errors"] = [e.to_dict() for e in self.errors]
        return body


class Finding(str):
    """A finding's English text that remembers the template and values it was filled from.

    It is a ``str``, so checks pass it along like any message; :class:`Problem` takes the template
    and values from it, and a page says the finding in the reader's language by the template.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Finding:
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template, text.params = template, params
        return text


def finding(template: str, /, **params: Any) -> Finding:
    """Return the English finding ``template`` filled with ``params`` (placeholders ``{name}``)."""
    return Finding(template, **params)


@dataclass(frozen=True)
class Problem:
    """One finding of validation or lint: where it is and what is wrong.

    ``message`` is English (the CLI and the API print it); ``template`` and ``params`` (taken from a
    :class:`Finding` message) let a page say it in the reader's language. A message without a
    template came from a library (lxml, SpiffWorkflow) and is shown as that library wrote it.
    """

    file: str
    message: str
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"
    rule: str = "bpmn"
    extra: dict[str, Any] = field(default_factory=dict)
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.message, Finding) and not self.template:
            object.__setattr__(self, "template", self.message.template)
            object.__setattr__(self, "params", dict(self.message.params))
        object.__setattr__(self, "message", str(self.message))

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-able mapping."""
        return {
            "file": self.file,
            "element_id": self.element_id,
            "line": self.line,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.severity}: {self.message} ({self.rule})"


class DeploymentInvalid(InvalidInput):
    """Raised when a bundle fails XML, XSD, parsing or lint checks; nothing is deployed."""

    http_status = 422
    code = "deployment_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("{count} problem found; nothing was deployed", plural="{count} problems found; nothing was "
                         "deployed", params={"count": len(errors)})
        self.problems = problems

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["problems"] = [p.to_dict() for p in self.problems]
        return body


class Conflict(AftersalesError):
    """Raised when the state moved on under the request."""

    http_status = 409
    exit_code = 5
    code = "conflict"


class TaskNotReady(Conflict):
    """Raised when a task was already completed or cancelled, or is not yet ready."""

    code = "task_not_ready"


class TaskClaimed(Conflict):
    """Raised when another user holds the task."""

    code = "task_claimed"


class ConcurrentUpdate(Conflict):
    """Raised when another trigger committed a change to the instance first."""

    code = "concurrent_update"


class InstanceEnded(Conflict):
    """Raised when a trigger (complete, message, timer, retry, cancel) reaches an instance that has ended."""

    code = "instance_ended"


class MessageNotCorrelated(Conflict):
    """Raised when no instance waits for a message with this name and key."""

    http_status = 404
    code = "message_not_correlated"


class ScriptError(AftersalesError):
    """Raised when a BPMN script, condition or expression fails or is refused by the sandbox."""

    http_status = 422
    code = "script_error"


class DeliveryLoop(AftersalesError):
    """Raised when messages or signals thrown between instances chain deeper than one transaction allows."""

    http_status = 422
    code = "delivery_loop"


class HandlerError(AftersalesError):
    """Raised when a service handler is missing, has the wrong parameters or returns bad data."""

    code = "handler_error"


class IncidentError(AftersalesError):
    """Raised when an action needs an incident that does not exist or is not open."""

    http_status = 409
    exit_code = 5
    code = "incident"


class StoreUnavailable(AftersalesError):
    """Raised when the database cannot be reached; nothing was written."""

    http_status = 503
    exit_code = 75
    code = "store_unavailable"
