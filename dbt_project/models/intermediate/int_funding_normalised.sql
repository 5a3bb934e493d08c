{#-
  Every settled funding rate, normalised to an 8-hour interval:
      funding_rate_8h = funding_rate * 8 / interval_hours
  Venues settle every 8 h, 4 h or 1 h (and change it over time); averaging raw rates across
  intervals is a classic bug. Sources: macros/source_models.sql.
-#}
{%- set funding_models = levstress.source_model_names('funding_rates') -%}

with settlements as (
    {% for model in funding_models %}
    select exchange, asset, symbol, partition_date, funding_time, funding_rate, interval_hours
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select
    exchange,
    asset,
    symbol,
    partition_date,
    funding_time,
    funding_rate,
    interval_hours,
    funding_rate * 8 / interval_hours as funding_rate_8h
from settlements
where asset in {{ levstress.sql_list(var('tracked_assets')) }}
