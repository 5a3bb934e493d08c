{{ stg_collector_uptime('bybit_collector_uptime') }}
