"""Browser form of a webhook endpoint: address, description and events."""

from typing import Any

from django import forms

from webhooks.models import ALL_EVENTS, SUBSCRIBABLE_EVENTS, WebhookEndpoint, WebhookEvent


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="Address",
        max_length=2000,
        help_text="The https:// address that receives a POST for each event.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/pm-value"}),
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What receives these events, for whom."
    )
    all_events = forms.BooleanField(
        required=False,
        initial=True,
        label="All events",
        help_text="Every event below and any added later.",
    )
    events = forms.MultipleChoiceField(
        required=False,
        choices=[(e, f"{e} — {WebhookEvent(e).label}") for e in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
        label="Events",
    )

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint, data: Any = None) -> "WebhookEndpointForm":
        every = ALL_EVENTS in endpoint.events
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "all_events": every,
            "events": [] if every else list(endpoint.events),
        }
        return cls(data, initial=initial)

    def chosen_events(self) -> list[str]:
        if self.cleaned_data.get("all_events"):
            return [ALL_EVENTS]
        return list(self.cleaned_data.get("events") or [])
