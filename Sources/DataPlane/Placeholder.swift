public enum DataPlanePlaceholder {}
