from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("ui/repositories/<str:name>/", views.repository_page, name="repository"),
    path("ui/tokens/", views.tokens_page, name="tokens"),
]
