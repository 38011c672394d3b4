"""The type variables the workflows' generic helpers share (one declaration each)."""

from typing import TypeVar

A = TypeVar("A")  # what an activity (or a starter) takes
R = TypeVar("R")  # what it gives back
