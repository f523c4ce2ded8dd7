"""Content negotiation for views where `?format=` is a filter of their own (the repositories'
package format): DRF would otherwise read it as the renderer to use and answer 404."""

from types import SimpleNamespace

from rest_framework.negotiation import DefaultContentNegotiation


class FormatIsAFilter(DefaultContentNegotiation):
    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)
