"""The admin's send-a-push form: audience, message, timing, as a ``POST /push`` body."""

from __future__ import annotations

from typing import Any

from django import forms

from .payload import format_push_time


class SendPushForm(forms.Form):
    channels = forms.CharField(
        required=False,
        help_text="Comma-separated channels. Leave empty to use the query below.",
    )
    where = forms.JSONField(
        required=False,
        label="Query",
        help_text='A where over installations, e.g. {"deviceType": "ios", "badge": {"$gt": 0}}. '
        "{} is everyone.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
    )
    title = forms.CharField(required=False)
    alert = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 70}))
    badge = forms.CharField(
        required=False, help_text='A number, or "Increment" to add one to each device\'s badge.'
    )
    sound = forms.CharField(required=False)
    content_available = forms.BooleanField(required=False, label="content-available")
    category = forms.CharField(required=False)
    uri = forms.CharField(required=False, label="URI")
    extra = forms.JSONField(
        required=False,
        label="More data",
        help_text="A JSON object merged into the push data (custom keys).",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
    )
    push_time = forms.DateTimeField(
        required=False, help_text="Send later (UTC, e.g. 2030-01-01 09:00). Empty: now."
    )
    expiration_interval = forms.IntegerField(
        required=False, min_value=1, help_text="Seconds the push stays deliverable."
    )
    campaign = forms.CharField(required=False, help_text="A title for the push status.")

    def clean_extra(self) -> dict[str, Any]:
        extra = self.cleaned_data.get("extra")
        if extra in (None, ""):
            return {}
        if not isinstance(extra, dict):
            raise forms.ValidationError("More data must be a JSON object.")
        return extra

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("channels") and data.get("where") not in (None, ""):
            raise forms.ValidationError("Give channels or a query, not both.")
        if not data.get("channels") and data.get("where") in (None, ""):
            raise forms.ValidationError("Give channels or a query ({} is everyone).")
        return data

    def body(self) -> dict[str, Any]:
        """The ``POST /push`` body this form stands for."""
        data = self.cleaned_data
        push: dict[str, Any] = {}
        if data.get("channels"):
            push["channels"] = [c.strip() for c in data["channels"].split(",") if c.strip()]
        else:
            push["where"] = data.get("where")
        message: dict[str, Any] = dict(data.get("extra") or {})
        for key in ("alert", "title", "sound", "category", "uri"):
            if data.get(key):
                message[key] = data[key]
        badge = (data.get("badge") or "").strip()
        if badge:
            message["badge"] = int(badge) if badge.lstrip("-").isdigit() else badge
        if data.get("content_available"):
            message["content-available"] = 1
        push["data"] = message
        if data.get("push_time"):
            push["push_time"] = format_push_time(data["push_time"], False)
        if data.get("expiration_interval"):
            push["expiration_interval"] = data["expiration_interval"]
        return push
