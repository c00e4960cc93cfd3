"""The base of every pydantic model here: its validator is built when first used, not at import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """pydantic's ``BaseModel`` with ``defer_build``: building a model's core schema is most of what
    defining it costs, and a process uses a few of the models it imports (a landing page's cold start
    validates the catalog and the pricing policy, not the studio's or the till's forms). Subclasses'
    own ``model_config`` is merged with this one."""

    model_config = ConfigDict(defer_build=True)


def build_validators() -> int:
    """Build every imported model's deferred validator now (SnapStart's init phase, so the snapshot
    holds them); how many were built."""
    built, pending = 0, list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if not model.__pydantic_complete__:
            model.model_rebuild()
            built += 1
    return built
