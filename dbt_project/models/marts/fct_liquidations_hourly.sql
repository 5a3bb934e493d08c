{{ config(unique_key='date') }}
{#-
  Hourly liquidations per exchange and asset, with the spike flag. `date` (the hour's UTC day)
  is what Spark partitions the table by (one folder per day).

  is_spike: robust z-score of the hour's total against the trailing spike_window_hours (168)
  hours of the same exchange + asset, current hour excluded, over the dense series (zero hours
  included):
      robust_z = (total - median) / (1.4826 * MAD)
  falling back to the trailing standard deviation when MAD = 0 (more than half of the window
  equal, typically zero hours). Spike when robust_z > spike_z_threshold and
  total >= spike_min_usd, or, when the whole window is constant (scale 0), when
  total >= spike_min_usd and total > median. Needs spike_min_history_hours (72) hours of
  history: before that robust_z is NULL and is_spike false.
-#}
{%- set window_hours = var('spike_window_hours') | int -%}
{%- set lookback_days = (window_hours / 24) | round(0, 'ceil') | int + 1 -%}
{%- set frame = levstress.trailing_hours_frame('exchange, asset', 'hour_start', window_hours) -%}

with dense as (
    select *
    from {{ ref('int_liquidations_hourly_dense') }}
    where {{ levstress.input_window('partition_date', lookback_days) }}
),

trailing_stats as (
    select
        *,
        count(*) over ({{ frame }}) as history_hours,
        {{ levstress.rolling_median('total_liquidations_usd', frame) }} as trailing_median,
        1.4826 * {{ levstress.rolling_mad('total_liquidations_usd', frame) }} as trailing_mad_scaled,
        stddev_samp(total_liquidations_usd) over ({{ frame }}) as trailing_stddev
    from dense
),

scored as (
    select
        *,
        case
            when history_hours < {{ var('spike_min_history_hours') }} then null
            when trailing_mad_scaled > 0 then trailing_mad_scaled
            when trailing_stddev > 0 then trailing_stddev
            else 0
        end as spike_scale
    from trailing_stats
)

select
    hour_start,
    scored.exchange,
    scored.asset,
    long_liquidations_usd,
    short_liquidations_usd,
    total_liquidations_usd,
    {{ levstress.safe_divide('long_liquidations_usd', 'total_liquidations_usd') }} as long_share,
    coalesce(
        total_liquidations_usd >= {{ var('spike_min_usd') }}
        and (
            (total_liquidations_usd - trailing_median) / nullif(spike_scale, 0) > {{ var('spike_z_threshold') }}
            or (spike_scale = 0 and total_liquidations_usd > trailing_median)
        ),
        false
    ) as is_spike,
    (total_liquidations_usd - trailing_median) / nullif(spike_scale, 0) as robust_z,
    coverage.coverage_level,
    scored.partition_date as date
from scored
left join {{ ref('fct_source_coverage_daily') }} as coverage
    on coverage.date = scored.partition_date
    and coverage.exchange = scored.exchange
    and coverage.asset = scored.asset
    and coverage.dataset = 'liquidations'
where {{ levstress.output_window('scored.partition_date') }}
