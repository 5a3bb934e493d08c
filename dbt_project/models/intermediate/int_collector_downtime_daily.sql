{#-
  How long each stream venue's liquidation collector was away per UTC day, from the connected
  stretches of its session log (stg_*__collector_uptime, registered in macros/source_models.sql):
  total minutes not connected and the longest such stretch with its start and end. Only days with
  a session record are here: a tape collected before the collector logged its sessions is graded
  on the tape alone.
-#}
{%- set day_start = 'cast(partition_date as ' ~ dbt.type_timestamp() ~ ')' %}

with uptime as (
    {% for model in levstress.source_model_names('collector_uptime') %}
    select exchange, partition_date, connected_from, connected_until
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

steps as (
    select
        *,
        lag(connected_until) over (partition by exchange, partition_date order by connected_from) as previous_until,
        lead(connected_from) over (partition by exchange, partition_date order by connected_from) as next_from
    from uptime
),

-- the stretches between connections: before each (from the previous end, or midnight) and after
-- the last one (to the next midnight)
away as (
    select exchange, partition_date, coalesce(previous_until, {{ day_start }}) as away_from, connected_from as away_until
    from steps
    union all
    select exchange, partition_date, connected_until as away_from, {{ dbt.dateadd('day', 1, day_start) }} as away_until
    from steps
    where next_from is null
),

measured as (
    select
        *,
        greatest({{ dbt.datediff('away_from', 'away_until', 'second') }}, 0) / 60.0 as away_minutes
    from away
),

ranked as (
    select
        *,
        sum(away_minutes) over (partition by exchange, partition_date) as downtime_minutes,
        row_number() over (partition by exchange, partition_date order by away_minutes desc, away_from) as away_rank
    from measured
)

select
    exchange,
    partition_date,
    downtime_minutes,
    away_minutes as longest_outage_minutes,
    case when away_minutes > 0 then away_from end as longest_outage_start,
    case when away_minutes > 0 then away_until end as longest_outage_end,
    downtime_minutes > {{ var('collector_gap_tolerance_minutes') }} as is_partial
from ranked
where away_rank = 1
