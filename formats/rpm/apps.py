from registry import plugins


class RpmConfig(plugins.FormatAppConfig):
    name = "formats.rpm"
    label = "rpm"
    verbose_name = "RPM (dnf/yum) format"
