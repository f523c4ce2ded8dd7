from registry import plugins


class DebConfig(plugins.FormatAppConfig):
    name = "formats.deb"
    label = "deb"
    verbose_name = "APT (Debian) format"
