{{ config(unique_key='date') }}
{#-
  One row per alert condition and day; the pipeline shows them in Dagster and delivers each
  alert_id to the webhook once (orchestration/alerts.py). Three conditions:
  * stress_level     : an asset's stress_level rises into alert_stress_levels (high, extreme)
                       from a lower level (or from no level) the day before; only scores
                       ranked against stress_mature_history_days (30) or more days;
  * hourly_spike     : an exchange-asset hour flagged is_spike with a total >= alert_spike_usd;
                       one alert per exchange, asset and day, for its largest such hour;
  * cluster_near_low : longs liquidated within cluster_near_low_pct of the trailing 7-day low
                       (fct_liquidation_clusters.near_local_low) reach alert_cluster_long_usd,
                       having been below it (or absent) the day before;
  * liquidation_wall_near : the close is within alert_wall_near_pct (3 %) above the nearest
                       large band of estimated long liquidations (fct_estimated_liquidation_levels)
                       while the asset's stress level is one of alert_stress_levels, and was not
                       the day before: a fall of that much would meet a wall of forced selling.
-#}
{%- set alert_levels = var('alert_stress_levels') -%}
{%- set spike_usd = var('alert_spike_usd') | float -%}
{%- set cluster_usd = var('alert_cluster_long_usd') | float -%}
{%- set wall_pct = var('alert_wall_near_pct') | float -%}
{%- set text = dbt.type_string() -%}

with stress as (
    select
        date,
        asset,
        stress_level,
        stress_score,
        case stress_level when 'extreme' then 4 when 'high' then 3 when 'elevated' then 2 when 'calm' then 1 else 0 end
            as level_rank
    from {{ ref('fct_leverage_stress_daily') }}
    where {{ levstress.input_window('date', 1) }}
      -- an early score (a new home) is published but too noisy to page anyone
      and stress_history_days >= {{ var('stress_mature_history_days') }}
),

stress_alerts as (
    select
        today.date,
        'stress_level' as alert_type,
        today.asset,
        cast(null as {{ text }}) as exchange,
        cast(null as timestamp) as observed_at,
        today.stress_score as observed_value,
        cast({{ var('stress_level_' ~ alert_levels[0]) }} as {{ levstress.type_double() }}) as threshold_value,
        today.asset || ' leverage stress ' || upper(today.stress_level) || ' (score '
            || cast(cast(round(today.stress_score, 0) as integer) as {{ text }}) || ', was '
            || coalesce(yesterday.stress_level, 'unscored') || ')' as message
    from stress as today
    left join stress as yesterday
        on yesterday.asset = today.asset
        and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
    where {{ levstress.output_window('today.date') }}
      and today.stress_level in {{ levstress.sql_list(alert_levels) }}
      and today.level_rank > coalesce(yesterday.level_rank, 0)
),

spike_hours as (
    select
        cast(hour_start as date) as date,
        exchange,
        asset,
        hour_start,
        total_liquidations_usd,
        long_share,
        row_number() over (
            partition by cast(hour_start as date), exchange, asset
            order by total_liquidations_usd desc
        ) as rank_in_day
    from {{ ref('fct_liquidations_hourly') }}
    where {{ levstress.output_window('hour_start') }}
      and is_spike
      and total_liquidations_usd >= {{ spike_usd }}
),

spike_alerts as (
    select
        date,
        'hourly_spike' as alert_type,
        asset,
        exchange,
        hour_start as observed_at,
        total_liquidations_usd as observed_value,
        cast({{ spike_usd }} as {{ levstress.type_double() }}) as threshold_value,
        'Liquidation spike: ' || exchange || ' ' || asset || ' $'
            || cast(round(total_liquidations_usd / 1e6, 1) as {{ text }}) || 'M in the hour from '
            || cast(hour_start as {{ text }}) || ' UTC ('
            || cast(cast(round(100 * coalesce(long_share, 0), 0) as integer) as {{ text }}) || '% longs)' as message
    from spike_hours
    where rank_in_day = 1
),

near_low_longs as (
    select
        date,
        asset,
        max(local_low_price) as local_low_price,
        sum(case when near_local_low then long_liquidations_usd else 0 end) as near_low_long_usd
    from {{ ref('fct_liquidation_clusters') }}
    where {{ levstress.input_window('date', 1) }}
    group by 1, 2
),

cluster_alerts as (
    select
        today.date,
        'cluster_near_low' as alert_type,
        today.asset,
        cast(null as {{ text }}) as exchange,
        cast(null as timestamp) as observed_at,
        today.near_low_long_usd as observed_value,
        cast({{ cluster_usd }} as {{ levstress.type_double() }}) as threshold_value,
        today.asset || ': $' || cast(round(today.near_low_long_usd / 1e6, 1) as {{ text }})
            || 'M of longs liquidated within {{ var("cluster_near_low_pct") }}% of the 7-day low ($'
            || cast(round(today.local_low_price, 2) as {{ text }}) || ')' as message
    from near_low_longs as today
    left join near_low_longs as yesterday
        on yesterday.asset = today.asset
        and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
    where {{ levstress.output_window('today.date') }}
      and today.near_low_long_usd >= {{ cluster_usd }}
      and coalesce(yesterday.near_low_long_usd, 0) < {{ cluster_usd }}
),

walls as (
    select
        w.date,
        w.asset,
        w.price_band_low,
        w.long_liquidation_usd,
        -1 * w.distance_from_close_pct as distance_below_pct,
        s.stress_level,
        (s.stress_level in {{ levstress.sql_list(alert_levels) }} and -1 * w.distance_from_close_pct <= {{ wall_pct }})
            as is_near
    from {{ ref('fct_estimated_liquidation_levels') }} as w
    inner join stress as s
        on s.date = w.date
        and s.asset = w.asset
    where {{ levstress.input_window('w.date', 1) }}
      and w.is_nearest_large_long_band
),

wall_alerts as (
    select
        today.date,
        'liquidation_wall_near' as alert_type,
        today.asset,
        cast(null as {{ text }}) as exchange,
        cast(null as timestamp) as observed_at,
        today.distance_below_pct as observed_value,
        cast({{ wall_pct }} as {{ levstress.type_double() }}) as threshold_value,
        today.asset || ': leverage stress ' || upper(today.stress_level) || ' and an estimated $'
            || cast(round(today.long_liquidation_usd / 1e6, 1) as {{ text }}) || 'M of longs would be liquidated at $'
            || cast(round(today.price_band_low, 2) as {{ text }}) || ', '
            || cast(round(today.distance_below_pct, 1) as {{ text }}) || '% below the close' as message
    from walls as today
    left join walls as yesterday
        on yesterday.asset = today.asset
        and yesterday.date = {{ dbt.dateadd('day', -1, 'today.date') }}
    where {{ levstress.output_window('today.date') }}
      and today.is_near
      and not coalesce(yesterday.is_near, false)
),

alerts as (
    select * from stress_alerts
    union all
    select * from spike_alerts
    union all
    select * from cluster_alerts
    union all
    select * from wall_alerts
)

select
    {{ dbt.hash("alert_type || '|' || cast(date as " ~ text ~ ") || '|' || asset || '|' || coalesce(exchange, '')") }}
        as alert_id,
    date,
    alert_type,
    asset,
    exchange,
    observed_at,
    observed_value,
    threshold_value,
    message
from alerts
