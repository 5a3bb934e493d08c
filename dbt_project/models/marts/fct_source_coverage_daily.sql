{{ config(unique_key='date') }}
{#-
  How complete each day's data is, per exchange, asset and dataset (liquidations, funding,
  open_interest, prices), and where it came from. Sources and their rules: macros/source_models.sql;
  levels explained in docs/methodology.md ("Coverage"):
    missing   no point that day
    partial   a regular series with fewer points than the day needs (a gap), or a collector tape
              whose collector was disconnected longer than var collector_gap_tolerance_minutes
    complete / throttled / estimate
              every expected point there; the level is the source's (the venue's full record,
              a capped or sampled feed, an aggregator's figure)
  The series expected on a day are those seen in the 30 days up to it, so a source that stops
  delivering shows up as missing instead of silently disappearing, and those of a source that
  was unavailable that day (stg_pipeline__fetch_outcomes: every exchange it is about x every
  tracked asset), so a source a new home has never had says missing too. A sparse source (an
  event tape) fetched whole with no event for a series had a quiet day: its usual level, not
  missing. gap_reason says why a row, or the venue's own source behind it, is below whole: the
  fetch outcome's reason.
  When an exchange-day has more than one source (a partial tape and the catch-up's fill), the row
  is the source the liquidation marts use: the first whole one in source priority, else the
  first; primary_source / primary_coverage_level keep what the venue's own source was worth.
-#}
{%- set lookback = 30 -%}

with points as (
    select *
    from {{ ref('int_source_coverage_points') }}
    where {{ levstress.input_window('partition_date', lookback) }}
),

outcomes as (
    select partition_date as date, source_table, status, reason
    from {{ ref('stg_pipeline__fetch_outcomes') }}
    where {{ levstress.output_window('partition_date') }}
),

days as (
    select distinct partition_date as date
    from points
    where {{ levstress.output_window('partition_date') }}
    union
    select date from outcomes
),

-- the series of each graded source, as a source that was unavailable for a day is expected to have
declared as (
    {%- for s in levstress.coverage_sources() if not s.fill %}
    {%- set outer = loop %}
    {%- for exchange in s.exchanges %}
    {%- for asset in var('tracked_assets') %}
    select
        '{{ s.table }}' as source, '{{ s.dataset }}' as dataset, '{{ exchange }}' as exchange, '{{ asset }}' as asset,
        '{{ s.whole }}' as level_when_whole, {{ 'true' if s.sparse else 'false' }} as is_sparse,
        {{ 'true' if s.collector else 'false' }} as is_collector_tape, {{ s.priority }} as source_priority
    {% if not (outer.last and loop.last) %}union all{% endif %}
    {%- endfor %}
    {%- endfor %}
    {%- endfor %}
),

-- each series once per day it was seen: the look-back below joins days with these, not with every
-- point (a year's build would pair each day with ~30 days of 5-minute buckets and tape events)
seen as (
    select distinct
        partition_date, dataset, source, exchange, asset, level_when_whole, is_sparse, is_collector_tape,
        source_priority, interval_minutes
    from points
),

-- what a day expects: every series seen in the {{ lookback }} days up to and including it (never
-- later), and every series of a source that was unavailable that day or, if it only reports what
-- happened (sparse), fetched: an asset without a liquidation on a new home's first day is graded too
expected as (
    select
        d.date, p.dataset, p.source, p.exchange, p.asset, p.level_when_whole, p.is_sparse,
        p.is_collector_tape, p.source_priority, p.interval_minutes
    from days as d
    inner join seen as p
        on p.partition_date <= d.date
        and p.partition_date >= {{ dbt.dateadd('day', -lookback, 'd.date') }}
    union all
    select
        o.date, x.dataset, x.source, x.exchange, x.asset, x.level_when_whole, x.is_sparse,
        x.is_collector_tape, x.source_priority, cast(null as integer) as interval_minutes
    from outcomes as o
    inner join declared as x
        on x.source = o.source_table
    where o.status = 'unavailable' or (o.status = 'fetched' and x.is_sparse)
),

series as (
    select
        date,
        dataset,
        source,
        exchange,
        asset,
        min(level_when_whole) as level_when_whole,
        bool_or(is_sparse) as is_sparse,
        bool_or(is_collector_tape) as is_collector_tape,
        min(source_priority) as source_priority,
        max(interval_minutes) as interval_minutes
    from expected
    group by 1, 2, 3, 4, 5
),

downtime as (
    select *
    from {{ ref('int_collector_downtime_daily') }}
    where {{ levstress.output_window('partition_date') }}
),

distinct_points as (
    select distinct dataset, source, exchange, asset, partition_date, point_time, interval_minutes
    from points
    where {{ levstress.output_window('partition_date') }}
),

steps as (
    select
        *,
        lag(point_time) over (
            partition by dataset, source, exchange, asset, partition_date order by point_time
        ) as previous_point_time,
        lead(point_time) over (
            partition by dataset, source, exchange, asset, partition_date order by point_time
        ) as next_point_time
    from distinct_points
),

{%- set day_start = 'cast(partition_date as ' ~ dbt.type_timestamp() ~ ')' %}

-- the stretches not covered by a point: before each point (from the end of the previous one, or
-- midnight) and after the last one (to midnight); a point covers its interval
gaps as (
    select
        dataset, source, exchange, asset, partition_date,
        coalesce(
            {{ dbt.dateadd('minute', 'coalesce(interval_minutes, 0)', 'previous_point_time') }},
            {{ day_start }}
        ) as gap_start,
        point_time as gap_end
    from steps
    union all
    select
        dataset, source, exchange, asset, partition_date,
        {{ dbt.dateadd('minute', 'coalesce(interval_minutes, 0)', 'point_time') }} as gap_start,
        {{ dbt.dateadd('day', 1, day_start) }} as gap_end
    from steps
    where next_point_time is null
),

longest_gaps as (
    select
        *,
        {{ dbt.datediff('gap_start', 'gap_end', 'minute') }} as gap_minutes,
        row_number() over (
            partition by dataset, source, exchange, asset, partition_date
            order by {{ dbt.datediff('gap_start', 'gap_end', 'minute') }} desc, gap_start
        ) as gap_rank
    from gaps
),

observed as (
    select
        dataset,
        source,
        exchange,
        asset,
        partition_date as date,
        count(*) as observed_points,
        min(point_time) as first_point_at,
        max(point_time) as last_point_at,
        max(interval_minutes) as interval_minutes
    from steps
    group by 1, 2, 3, 4, 5
),

graded as (
    select
        s.date,
        s.exchange,
        s.asset,
        s.dataset,
        s.source,
        s.source_priority,
        s.level_when_whole,
        s.is_sparse,
        case when not s.is_sparse then cast(1440 / coalesce(o.interval_minutes, s.interval_minutes) as integer) end
            as expected_points,
        cast(coalesce(o.observed_points, 0) as integer) as observed_points,
        o.first_point_at,
        o.last_point_at,
        fo.status as fetch_status,
        fo.reason as fetch_reason,
        coalesce(dt.is_partial, false) as collector_away,
        cast(case
            when o.observed_points is null then 1440
            when dt.exchange is not null then round(dt.longest_outage_minutes)
            else greatest(g.gap_minutes, 0)
        end as integer) as longest_gap_minutes,
        case
            when o.observed_points is null then cast(s.date as {{ dbt.type_timestamp() }})
            when dt.exchange is not null then dt.longest_outage_start
            when g.gap_minutes > 0 then g.gap_start
        end as longest_gap_start,
        case
            when o.observed_points is null then {{ dbt.dateadd('day', 1, 'cast(s.date as ' ~ dbt.type_timestamp() ~ ')') }}
            when dt.exchange is not null then dt.longest_outage_end
            when g.gap_minutes > 0 then g.gap_end
        end as longest_gap_end
    from series as s
    left join observed as o
        on o.date = s.date
        and o.dataset = s.dataset
        and o.source = s.source
        and o.exchange = s.exchange
        and o.asset = s.asset
    left join longest_gaps as g
        on g.partition_date = s.date
        and g.dataset = s.dataset
        and g.source = s.source
        and g.exchange = s.exchange
        and g.asset = s.asset
        and g.gap_rank = 1
    left join downtime as dt
        on s.is_collector_tape
        and dt.partition_date = s.date
        and dt.exchange = s.exchange
    left join outcomes as fo
        on fo.date = s.date
        and fo.source_table = s.source
),

leveled as (
    select
        *,
        case
            -- a sparse source fetched whole with nothing in it: a quiet day, not a hole
            when observed_points = 0 and is_sparse and fetch_status = 'fetched' and not collector_away
                then level_when_whole
            when observed_points = 0 then 'missing'
            when expected_points is not null and observed_points < expected_points then 'partial'
            when collector_away then 'partial'
            else level_when_whole
        end as coverage_level
    from graded
),

explained as (
    select
        *,
        case
            when coverage_level = 'missing' and fetch_status = 'unavailable' then fetch_reason
            when coverage_level = 'missing' and fetch_status = 'fetched' then 'fetched, but no rows for this series'
            when coverage_level = 'partial' and collector_away then {{ dbt.concat([
                "'collector disconnected for '", "cast(longest_gap_minutes as " ~ dbt.type_string() ~ ")", "' min'"]) }}
            when coverage_level = 'partial' then {{ dbt.concat([
                "cast(observed_points as " ~ dbt.type_string() ~ ")", "' of '",
                "cast(expected_points as " ~ dbt.type_string() ~ ")", "' points'"]) }}
        end as own_gap_reason
    from leveled
),

-- one row per exchange-day-asset-dataset: the source the marts use (see the header)
ranked as (
    select
        *,
        row_number() over (
            partition by date, exchange, asset, dataset
            order by case when coverage_level in ('partial', 'missing') then 1 else 0 end, source_priority, source
        ) as choice_rank,
        first_value(source) over (
            partition by date, exchange, asset, dataset order by source_priority, source
        ) as primary_source,
        first_value(coverage_level) over (
            partition by date, exchange, asset, dataset order by source_priority, source
        ) as primary_coverage_level,
        first_value(own_gap_reason) over (
            partition by date, exchange, asset, dataset order by source_priority, source
        ) as primary_gap_reason
    from explained
)

select
    date,
    exchange,
    asset,
    dataset,
    source,
    coverage_level,
    expected_points,
    observed_points,
    longest_gap_minutes,
    longest_gap_start,
    longest_gap_end,
    first_point_at,
    last_point_at,
    primary_source,
    primary_coverage_level,
    case
        when coverage_level in ('partial', 'missing') then own_gap_reason
        when primary_coverage_level in ('partial', 'missing') then {{ dbt.concat([
            "primary_source", "' '", "primary_coverage_level", "': '", "coalesce(primary_gap_reason, 'no reason recorded')"]) }}
    end as gap_reason
from ranked
where choice_rank = 1
