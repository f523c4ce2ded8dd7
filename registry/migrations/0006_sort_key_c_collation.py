"""Version sort keys compare byte by byte, the way every format's sort_key is built. SQLite
compares text that way already; PostgreSQL uses the database's collation, which is only byte
order for a "C" database (the official postgres image makes en_US.utf8 ones, where "!" and "~"
sort apart from their code points). So the column gets the "C" collation there."""

from django.db import migrations


def use_c_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE registry_packageversion ALTER COLUMN sort_key TYPE varchar(512) COLLATE "C"')


def use_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE registry_packageversion ALTER COLUMN sort_key TYPE varchar(512) COLLATE \"default\"")


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_downloads_and_summaries")]

    operations = [migrations.RunPython(use_c_collation, use_default_collation)]
