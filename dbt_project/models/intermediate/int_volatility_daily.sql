{#- Daily DVOL per asset (BTC, ETH): the close of the day's last hourly candle. -#}
{%- set dvol_models = [
    'stg_deribit__dvol',
] -%}

with hourly as (
    {% for model in dvol_models %}
    select asset, partition_date, open_time, close_value
    from {{ ref(model) }}
    where interval_minutes = 60
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ranked as (
    select
        *,
        row_number() over (partition by asset, partition_date order by open_time desc) as rank_from_last
    from hourly
)

select
    partition_date as date,
    asset,
    close_value as dvol_close
from ranked
where rank_from_last = 1
  and asset in {{ levstress.sql_list(var('tracked_assets')) }}
