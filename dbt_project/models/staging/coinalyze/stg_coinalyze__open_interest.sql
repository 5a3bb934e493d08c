{{ stg_open_interest('coinalyze_open_interest') }}
