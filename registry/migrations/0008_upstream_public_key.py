from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0007_proxy_upstreams"),
    ]

    operations = [
        migrations.AddField(
            model_name="upstream",
            name="public_key",
            field=models.TextField(blank=True),
        ),
    ]
