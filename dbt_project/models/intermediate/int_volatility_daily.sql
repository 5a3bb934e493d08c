{#- Daily Deribit DVOL per asset (BTC, ETH) from the day's hourly candles: open of the first,
    high / low over the day, close of the last. -#}
{%- set dvol_models = levstress.source_model_names('volatility_index') -%}

with hourly as (
    {% for model in dvol_models %}
    select asset, partition_date, open_time, open_value, high_value, low_value, close_value
    from {{ ref(model) }}
    where interval_minutes = 60
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ranked as (
    select
        *,
        row_number() over (partition by asset, partition_date order by open_time) as rank_from_first,
        row_number() over (partition by asset, partition_date order by open_time desc) as rank_from_last
    from hourly
)

select
    partition_date as date,
    asset,
    max(case when rank_from_first = 1 then open_value end) as dvol_open,
    max(high_value) as dvol_high,
    min(low_value) as dvol_low,
    max(case when rank_from_last = 1 then close_value end) as dvol_close,
    count(*) as hours_observed
from ranked
where asset in {{ levstress.sql_list(var('tracked_assets')) }}
group by 1, 2
