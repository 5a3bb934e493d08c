{{ config(unique_key='date') }}
{#-
  Event study of the stress score against its baselines, walk-forward: each row is the study as
  it could be made at the end of `date`, from days up to `date` only (docs/methodology.md, "Does
  the score work?"). Per signal (stress, funding, oi_change, liquidations, realized_vol, random), alert
  threshold (the stress levels' lower bounds: 60 elevated, 80 high, 95 extreme) and horizon
  (1, 3, 7 days):
    an alert            a day whose score >= threshold
    a hit               an alert followed by a long-liquidation event of the same asset within
                        the next horizon_days days (not the alert's own day: its score already
                        reads that day's liquidations)
    evaluated_days      days with the score whose horizon had passed by `date`
    precision           hits / alerts; base_rate: share of evaluated days followed by an event
                        within the horizon; lift = precision / base_rate (1 = no skill)
    recall              events (up to `date`, the signal known the day before) with an alert in
                        the horizon_days days before them / events: the hit rate
    false_alarms_per_month  alerts not followed by an event, per 30.44 evaluated asset-days
    noise_to_signal     (false alarms / days not followed by an event) / (hits / days followed
                        by one): Kaminsky, Lizondo and Reinhart's ratio; below 1 beats chance
    median_lead_days    over caught events, days from the first alert in the horizon to the event
-#}
{%- set signals = ['stress', 'funding', 'oi_change', 'liquidations', 'realized_vol', 'random'] -%}
{%- set horizons = [1, 3, 7] -%}
{%- set thresholds = [var('stress_level_elevated'), var('stress_level_high'), var('stress_level_extreme')] -%}
{%- set double = levstress.type_double() -%}

with days as (
    select
        date,
        asset,
        is_long_liquidation_event as is_event,
        {%- for signal in signals %}
        {{ signal }}_score,
        {%- endfor %}
        min(case when is_long_liquidation_event then date end) over (
            partition by asset order by date rows between 1 following and unbounded following
        ) as next_event_date
    from {{ ref('fct_stress_signals_daily') }}
    {%- if levstress.is_windowed() %}
    where date < {{ levstress.window_end() }}
    {%- endif %}
),

signal_names as (
    {{ levstress.values_relation(signals, 'signal') }}
),

-- one row per day and signal that has a score
scored_days as (
    select *
    from (
        select
            d.date,
            d.asset,
            n.signal,
            case n.signal
                {%- for signal in signals %}
                when '{{ signal }}' then d.{{ signal }}_score
                {%- endfor %}
            end as score,
            {{ dbt.datediff('d.date', 'd.next_event_date', 'day') }} as days_to_next_event
        from days as d
        cross join signal_names as n
    ) as unpivoted
    where score is not null
),

as_of as (
    select distinct date as as_of
    from days
    where {{ levstress.output_window('date') }}
),

thresholds as (
    {{ levstress.values_relation(thresholds, 'threshold') }}
),

{%- for horizon in horizons %}

days_{{ horizon }} as (
    select
        a.as_of,
        d.signal,
        th.threshold,
        count(*) as evaluated_days,
        sum(case when d.score >= th.threshold then 1 else 0 end) as alerts,
        sum(case when d.score >= th.threshold and d.days_to_next_event <= {{ horizon }} then 1 else 0 end) as hits,
        sum(case when d.days_to_next_event <= {{ horizon }} then 1 else 0 end) as eventful_days
    from as_of as a
    inner join scored_days as d
        on d.date <= {{ dbt.dateadd('day', -horizon, 'a.as_of') }}
    cross join thresholds as th
    group by 1, 2, 3
),

event_checks_{{ horizon }} as (
    select
        a.as_of,
        d.signal,
        th.threshold,
        e.asset,
        e.date as event_date,
        max(case when d.score >= th.threshold then {{ dbt.datediff('d.date', 'e.date', 'day') }} end) as lead_days
    from as_of as a
    inner join days as e
        on e.is_event
        and e.date <= a.as_of
    inner join scored_days as d
        on d.asset = e.asset
        and d.date >= {{ dbt.dateadd('day', -horizon, 'e.date') }}
        and d.date < e.date
    cross join thresholds as th
    group by 1, 2, 3, 4, 5
    -- the signal was known the day before the event
    having max(case when d.date = {{ dbt.dateadd('day', -1, 'e.date') }} then 1 else 0 end) = 1
),

events_{{ horizon }} as (
    select
        as_of,
        signal,
        threshold,
        count(*) as events,
        count(lead_days) as events_caught,
        percentile_cont(0.5) within group (order by lead_days) as median_lead_days
    from event_checks_{{ horizon }}
    group by 1, 2, 3
),

study_{{ horizon }} as (
    select
        d.as_of as date,
        d.signal,
        d.threshold,
        {{ horizon }} as horizon_days,
        d.evaluated_days,
        d.alerts,
        d.hits,
        d.eventful_days,
        coalesce(e.events, 0) as events,
        coalesce(e.events_caught, 0) as events_caught,
        e.median_lead_days
    from days_{{ horizon }} as d
    left join events_{{ horizon }} as e
        on e.as_of = d.as_of
        and e.signal = d.signal
        and e.threshold = d.threshold
),
{%- endfor %}

study as (
    {%- for horizon in horizons %}
    select * from study_{{ horizon }}{% if not loop.last %} union all{% endif %}
    {%- endfor %}
)

select
    date,
    signal,
    threshold,
    cast(horizon_days as integer) as horizon_days,
    cast(evaluated_days as integer) as evaluated_days,
    cast(alerts as integer) as alerts,
    cast(hits as integer) as hits,
    cast(events as integer) as events,
    cast(events_caught as integer) as events_caught,
    {{ levstress.safe_divide('alerts', 'evaluated_days') }} as alert_rate,
    {{ levstress.safe_divide('hits', 'alerts') }} as precision,
    {{ levstress.safe_divide('events_caught', 'events') }} as recall,
    {{ levstress.safe_divide('eventful_days', 'evaluated_days') }} as base_rate,
    {{ levstress.safe_divide('hits * evaluated_days', 'alerts * eventful_days') }} as lift,
    {{ levstress.safe_divide('(alerts - hits) * 30.44', 'evaluated_days') }} as false_alarms_per_month,
    {{ levstress.safe_divide('(alerts - hits) * eventful_days', 'hits * (evaluated_days - eventful_days)') }}
        as noise_to_signal,
    cast(median_lead_days as {{ double }}) as median_lead_days
from study
