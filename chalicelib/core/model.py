"""The base of every pydantic model here: its validator is built when first used, not at import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """pydantic's ``BaseModel`` with ``defer_build``: building a model's core schema is most of what
    defining it costs, and a process uses a few of the models it imports. Subclasses' own
    ``model_config`` is merged with this one. (The catalog's records are not pydantic models:
    ``chalicelib.core.records``.)"""

    model_config = ConfigDict(defer_build=True)
