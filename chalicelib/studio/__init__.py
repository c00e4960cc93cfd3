"""The studio: a Starlette app for marketers and pop-up staff (on Lambda, the ``studio`` function)."""
