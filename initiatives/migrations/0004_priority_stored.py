"""The priority figures of DESIGN.md §3 stored on the initiative, filled for the existing
ones, with the index of the lists' default order (value density, unknown last)."""

from django.conf import settings
from django.db import migrations, models


def fill_priority(apps, schema_editor):
    """The stored priority of every existing initiative, by the services' own function
    (on the historical models, so it runs as the schema was at this migration)."""
    from initiatives.services import priorities_write

    initiative = apps.get_model("initiatives", "Initiative")
    impact = apps.get_model("initiatives", "ExpectedImpact")
    ids = list(initiative.objects.order_by("pk").values_list("pk", flat=True))
    priorities_write(initiative_model=initiative, impact_model=impact, ids=ids)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('initiatives', '0003_initiative_bounds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='initiative',
            name='rice_score',
            field=models.DecimalField(decimal_places=6, editable=False, help_text='Reach × impact × confidence / 100 / effort weeks.', max_digits=40, null=True),
        ),
        migrations.AddField(
            model_name='initiative',
            name='risk_adjusted_value',
            field=models.DecimalField(decimal_places=6, editable=False, help_text='Σ expected change × value per unit × confidence / 100 over its impacts.', max_digits=40, null=True),
        ),
        migrations.AddField(
            model_name='initiative',
            name='value_density',
            field=models.DecimalField(decimal_places=6, editable=False, help_text='Risk-adjusted value per week of effort.', max_digits=40, null=True),
        ),
        # Filled before the index is built: one build instead of 10,000 index updates.
        migrations.RunPython(fill_priority, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='initiative',
            index=models.Index(models.F('workspace'), models.ExpressionWrapper(models.Q(('value_density__isnull', True)), output_field=models.BooleanField()), models.OrderBy(models.F('value_density'), descending=True), models.F('id'), name='initiative_density_order'),
        ),
    ]
