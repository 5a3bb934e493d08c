{{ stg_open_interest('bybit_open_interest') }}
