"""Guardrails and operations: audit trail, rate limits, usage caps, metrics, health.

Install with ``"backend_kit.guardrails"`` in ``INSTALLED_APPS`` (after the other
backend_kit apps) and, for admin auditing and file downloads,
``"backend_kit.guardrails.middleware.GuardrailsMiddleware"`` in ``MIDDLEWARE``.
The app hooks into the core through its generic seams (request guards and response
observers of ``backend_kit.api``, write listeners of ``backend_kit.objects.writes``,
ASGI wrappers of ``backend_kit.routing``); nothing in the core imports it.
"""
