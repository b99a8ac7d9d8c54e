DROP TABLE turnover_balances;
DROP TABLE turnover_facts;
