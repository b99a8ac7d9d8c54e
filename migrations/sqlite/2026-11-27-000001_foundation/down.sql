DROP TABLE login_failures;
DROP TABLE employees;
DROP TABLE teams;
DROP TABLE settings;
