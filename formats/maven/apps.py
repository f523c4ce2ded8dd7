from registry import plugins


class MavenConfig(plugins.FormatAppConfig):
    name = "formats.maven"
    label = "maven"
    verbose_name = "Maven format"
