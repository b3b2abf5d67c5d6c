from django.urls import path

from . import pages, social, views

urlpatterns = [
    path("users", views.UsersView.as_view(), name="bk-users"),
    path("users/me", views.MeView.as_view(), name="bk-users-me"),
    path("users/<str:object_id>", views.UserView.as_view(), name="bk-user"),
    path("login", views.LoginView.as_view(), name="bk-login"),
    path("logout", views.LogoutView.as_view(), name="bk-logout"),
    path("loginAs", views.LoginAsView.as_view(), name="bk-login-as"),
    path("verifyPassword", views.VerifyPasswordView.as_view(), name="bk-verify-password"),
    path(
        "requestPasswordReset",
        views.RequestPasswordResetView.as_view(),
        name="bk-request-password-reset",
    ),
    path(
        "verificationEmailRequest",
        views.VerificationEmailRequestView.as_view(),
        name="bk-verification-email",
    ),
    path(
        "upgradeToRevocableSession", views.UpgradeSessionView.as_view(), name="bk-upgrade-session"
    ),
    path("sessions", views.SessionsView.as_view(), name="bk-sessions"),
    path("sessions/me", views.SessionMeView.as_view(), name="bk-sessions-me"),
    path("sessions/<str:object_id>", views.SessionView.as_view(), name="bk-session"),
    path("roles", views.RolesView.as_view(), name="bk-roles"),
    path("roles/<str:object_id>", views.RoleView.as_view(), name="bk-role"),
    path("apps/<str:app_id>/verify_email", pages.verify_email, name="bk-verify-email"),
    path("apps/<str:app_id>/reset_password", pages.reset_password, name="bk-reset-password"),
    path("allauth/session", social.AllauthSessionView.as_view(), name="bk-allauth-session"),
]
