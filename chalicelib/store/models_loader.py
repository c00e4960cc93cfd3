"""botocore's model loader, without the listing of every service it ships.

Before it reads a model, botocore's ``Loader.load_service_model`` lists every service in its data
directories (436 in the botocore installed here: a directory read and a file check each, about
10 ms per kind of model, and a client reads two kinds) only to name them in the error it raises when
the one asked for is missing (boto/botocore#3687, open, removes it from the path of a client that
is found). Only the DynamoDB client uses this loader (``store.client``), and botocore ships
DynamoDB's models: a model file that is missing still raises ``DataNotFoundError`` when it is read,
of which the ``UnknownServiceError`` botocore would raise is a kind.
"""

from __future__ import annotations

from botocore.loaders import Loader

SERVICE = "dynamodb"


class DynamoDBModels(Loader):  # type: ignore[misc]  # botocore ships no types
    """A ``Loader`` that knows DynamoDB's models are there without listing its directories."""

    def list_available_services(self, type_name: str) -> list[str]:
        return [SERVICE]
