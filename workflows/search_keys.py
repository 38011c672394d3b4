"""The search attribute keys (`core.temporal`) every workflow module sets, passed through the
workflow sandbox in this one place."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core import temporal as keys

__all__ = ["keys"]
