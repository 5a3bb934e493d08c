{#-
  Positioning per exchange, asset and hour: every long_short_ratios source (macros/source_models.sql)
  unioned. A venue with one endpoint per measure (Binance) has one row per endpoint and hour, each
  filling its own measure; they are merged here into one row per hour. Where two sources have
  the same venue and hour (the live API and the data archive), the first registered one.
-#}
{%- set measures = ['account_ratio', 'top_account_ratio', 'top_position_ratio', 'taker_buy_sell_ratio'] -%}

with observations as (
    {{ levstress.first_source_per_hour(
        'long_short_ratios', ['exchange', 'asset', 'partition_date', 'observed_at'] + measures
    ) }}
)

select
    exchange,
    asset,
    partition_date,
    {{ dbt.date_trunc('hour', 'observed_at') }} as hour_start,
    {%- for measure in measures %}
    max({{ measure }}) as {{ measure }}{{ "," if not loop.last }}
    {%- endfor %}
from observations
where asset in {{ levstress.sql_list(var('tracked_assets')) }}
group by exchange, asset, partition_date, {{ dbt.date_trunc('hour', 'observed_at') }}
