from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from .models import Person


class PersonCreationForm(BaseUserCreationForm):
    class Meta:
        model = Person
        fields = ("email",)


class PersonChangeForm(UserChangeForm):
    class Meta:
        model = Person
        fields = ("email", "full_name")


@admin.register(Person)
class PersonAdmin(UserAdmin):
    add_form = PersonCreationForm
    form = PersonChangeForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"fields": ("email", "password1", "password2")}),)
