"""The Microsoft Graph adapter: the only code that speaks Graph, its read models and error hints."""
