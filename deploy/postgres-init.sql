-- Second database for the Confrère service (Synapse's is created by POSTGRES_USER's default).
CREATE DATABASE confrere OWNER synapse ENCODING 'UTF8';
