"""The national directory of health professionals (ANS "PS_LibreAcces" extract).

Import (`importer`), search index (`index`, `query`), CPTS memberships (`cpts`), favourites
(`favourites`) and the facade the bot, the API and the appservice use (`service`).
"""
