{{ config(unique_key='date') }}
{#-
  What the pipeline got from each source endpoint on each UTC day it asked for: fetched (rows
  loaded and rejected) or unavailable (the reason, the attempts). A day that was unavailable kept
  whatever rows it had before. `levstress status` and the fetch_status check read this table.
  Only what the data decides: the time of the fetch and a fetched window's payload count stay in
  raw.fetch_outcomes, so re-running days leaves this mart equal row for row.
-#}

select
    partition_date as date,
    source,
    endpoint,
    source_table,
    status,
    reason,
    case when status = 'unavailable' then attempts end as attempts,
    rows_loaded,
    rows_rejected
from {{ ref('stg_pipeline__fetch_outcomes') }}
where {{ levstress.output_window('partition_date') }}
